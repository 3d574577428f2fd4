"""Acts that move the event as a whole: send back to an earlier stage, postpone, cancel.
Each act's ``check_``/``apply_`` pair is listed in :data:`HANDLERS`."""

from __future__ import annotations

from definitions.schema import Notify
from workflows.lifecycle.handler import Handler
from workflows.lifecycle.moves import Moves
from workflows.messages import Act, Cancel, Postpone, SendBack
from workflows.refusals import conflict as _conflict
from workflows.refusals import invalid as _invalid


def check_send_back(lc: Moves, act: SendBack) -> None:
    if not (act.reason or "").strip():
        raise _invalid("sending back needs a reason")
    if act.to_stage not in lc.definition.stage_ids():
        raise _invalid("unknown stage %(stage)r", stage=act.to_stage)
    if not lc.machine_may(f"send_back_to_{act.to_stage}"):
        path = lc.definition.path()
        if act.to_stage in path and path.index(act.to_stage) < path.index(lc.record.stage):
            raise _conflict("cannot send back from %(current)s: the event is already under way", current=lc.record.stage)
        raise _conflict("cannot send back from %(current)s to %(stage)s: it is not an earlier stage", current=lc.record.stage,
                        stage=act.to_stage)


def apply_send_back(lc: Moves, act: SendBack) -> str:
    origin = lc.record.stage
    path = lc.definition.path()
    reopened = path[path.index(act.to_stage) : path.index(origin) + 1]
    for stage_id in reopened:
        for gate in lc.definition.stage(stage_id).gates:
            lc.record.gates.pop(gate.id, None)
    lc.machine_fire(f"send_back_to_{act.to_stage}")
    lc._entered(act.to_stage, previous=origin)
    # Held until someone acts in the stage: else gates that still pass would bounce it straight back.
    lc.record.hold = act.to_stage
    return f"sent back from {origin} to {act.to_stage}; decisions reopened in {', '.join(reopened)}"


def check_postpone(lc: Moves, act: Postpone) -> None:
    if lc.doors_open():
        raise _conflict("the doors have opened (the event is in %(current)s); it can no longer be postponed",
                        current=lc.record.stage)
    if act.new_start <= lc.now:
        raise _invalid("the new start must be in the future")
    if act.new_start <= lc.event.start:
        raise _invalid("postponing moves the event later; the new start is not after the current one")


def apply_postpone(lc: Moves, act: Postpone) -> str:
    old = lc.event.start
    lc._move_dates(act.new_start, act.new_end)
    lc._notify(Notify(kind="reminder", roles=[lc.definition.owner_role], channels=["email", "log"]),
                 cause=f"postpone.{act.key}", context={"postponed_from": old.isoformat()})
    if lc.calendar_updates:
        lc._update_calendars("postponement", "REQUEST", {"postponed_from": old.isoformat()})
    return f"postponed from {old.isoformat()} to {act.new_start.isoformat()}"


def check_cancel(lc: Moves, act: Cancel) -> None:
    if not lc.machine_may("cancel"):
        raise _conflict("an event in %(current)s has already happened; it can only close", current=lc.record.stage)


def apply_cancel(lc: Moves, act: Cancel) -> str:
    lc._cancel(act.reason)
    return f"cancelled: {act.reason}"


HANDLERS: dict[type[Act], Handler] = {
    SendBack: Handler(check_send_back, apply_send_back),
    Postpone: Handler(check_postpone, apply_postpone),
    Cancel: Handler(check_cancel, apply_cancel),
}
