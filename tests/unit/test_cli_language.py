"""The CLI prints for people in the environment's language: CONVENE_LANG, else LC_ALL / LC_MESSAGES / LANG
(``zh_CN.UTF-8`` → Simplified Chinese); tables stay aligned with wide characters; JSON is never translated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from convene import i18n
from console.cli import app
from definitions import shipped

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
CLEAN = {"CONVENE_LANG": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": None}
"""No language from the machine running the tests: each test says its own."""


def run(args: list[str], **env: str | None) -> object:
    return runner.invoke(app, args, env={**CLEAN, **env})


@pytest.mark.parametrize(("env", "language"), [
    ({"LANG": "zh_CN.UTF-8"}, "zh-Hans"), ({"LANG": "zh_TW.Big5"}, "zh-Hant"), ({"LANG": "zh_HK.UTF-8"}, "zh-Hant"),
    ({"LANG": "en_US.UTF-8"}, "en"), ({"LANG": "C.UTF-8"}, "en"), ({"LANG": "fr_FR.UTF-8"}, "en"), ({}, "en"),
    ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_GB.UTF-8"}, "zh-Hans"),
    ({"LC_MESSAGES": "zh_TW.UTF-8", "LANG": "zh_CN.UTF-8"}, "zh-Hant"),
    ({"CONVENE_LANG": "zh-Hant", "LC_ALL": "zh_CN.UTF-8"}, "zh-Hant"),
    ({"CONVENE_LANG": "", "LC_ALL": "", "LANG": "zh_SG.UTF-8@euro"}, "zh-Hans"),
])
def test_the_environment_names_the_language(env: dict[str, str], language: str) -> None:
    assert i18n.environment_language(env) == language


def test_definitions_list_in_simplified_chinese_under_lang_zh_cn() -> None:
    result = run(["definitions", "list"], LANG="zh_CN.UTF-8")
    assert result.exit_code == 0, result.output
    header, rule, *rows = result.output.splitlines()
    assert header.split() == ["类型", "标题", "阶段"]
    conference = next(r for r in rows if r.startswith("conference"))
    # the title column starts at the same display column in the header as in every row (CJK is two wide)
    title = shipped().get("conference").title
    assert cell_len(header[:header.index("标题")]) == len(conference[:conference.index(title)])
    english = run(["definitions", "list"], LANG="en_US.UTF-8")
    assert english.output.splitlines()[0].split() == ["kind", "title", "stages"]


def test_check_counts_with_plurals_in_each_language() -> None:
    board = ROOT / "definitions/board_meeting.yaml"
    d = shipped().get("board_meeting")
    chinese = run(["definitions", "check", str(board)], LANG="zh_CN.UTF-8")
    assert chinese.exit_code == 0
    assert chinese.output.strip() == (f"ok  {board}: board_meeting，{len(d.stages)} 个阶段，"
                                      f"{len(d.deadlines)} 个截止时间")
    english = run(["definitions", "check", str(board)], LANG="C")
    stages = f"{len(d.stages)} stage{'s' if len(d.stages) != 1 else ''}"
    assert english.output.strip().startswith(f"ok  {board}: board_meeting, {stages}, ")


def test_convene_lang_wins_over_the_posix_locale_for_the_simulation_table() -> None:
    result = run(["definitions", "simulate", "conference", "--start", "2027-06-01T09:00:00+00:00", "--no-gantt"],
                 CONVENE_LANG="zh-Hant", LANG="en_US.UTF-8")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split() == ["時間", "相對時間", "截止事項", "步驟", "通知對象", "級別", "動作"]


def test_an_error_is_said_in_the_language_and_json_is_not_translated() -> None:
    result = run(["events", "act", "e1", "dance", "{}", "--actor", "pia", "--role", "project_manager"],
                 LANG="zh_CN.UTF-8")
    assert result.exit_code == 2
    assert "未知操作 'dance'；可用操作：" in result.output
    schema = run(["definitions", "schema"], LANG="zh_CN.UTF-8")
    assert json.loads(schema.output)["title"] == json.loads(run(["definitions", "schema"]).output)["title"]


def test_a_refusal_from_the_workflow_is_said_in_the_language(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The workflow's refusal carries a message id and parameters: the CLI says it in the environment's
    language (exit 3); one without them (an event started before message ids) stays English."""
    import typer
    from temporalio.client import WorkflowUpdateFailedError
    from temporalio.exceptions import ApplicationError

    from console import cli

    def refused(details: object = None) -> object:
        async def go() -> None:
            raise WorkflowUpdateFailedError(ApplicationError(
                "task theme_purpose is already done", *([details] if details else []), type="Conflict"))
        return go()

    for name in ("CONVENE_LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    with pytest.raises(typer.Exit) as exit_:
        cli._run(refused({"message_id": "task %(task)s is already done", "params": {"task": "theme_purpose"}}))
    assert exit_.value.exit_code == 3
    assert capsys.readouterr().err.strip() == "被拒绝（Conflict）：任务 theme_purpose 已完成"
    with pytest.raises(typer.Exit):
        cli._run(refused())
    assert capsys.readouterr().err.strip() == "被拒绝（Conflict）：task theme_purpose is already done"
