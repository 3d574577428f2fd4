"""The team's acts over HTTP, each decided once and answered the same to every attempt of its key.

How one act goes (:func:`perform`):

1. The key (``Idempotency-Key``, else the body's ``key``, else a new one) is claimed in the database
   (:class:`store.acts.ActKeys`) as ``pending`` with a fingerprint of the sender and the act. A key
   with a final answer is answered from there (same status, same body, ``Idempotent-Replayed: true``);
   the same key with another request is refused (422).
2. The act goes to the event's workflow as one update whose id is the key (``act:<key>``): a resend of
   the key, from this process or another, is the same update, and the workflow decides it in its
   handler and keeps a refusal with the key (see :mod:`workflows.event`). So whichever attempt reaches
   the event first decides, and every later one, however late, gets that decision.
3. The answer is recorded as the key's final answer, then given.

Every wait on Temporal ends by ``temporal_rpc_timeout_seconds``. What a resend could fix (the server
busy or unreachable, an update dropped before the workflow saw it) is retried inside that deadline;
past it the answer is 503 with ``Retry-After`` (409 "in progress" for a repeat that joined an attempt
still going) and the key stays pending, to ask about (``GET /events/{id}/acts/{key}``) or resend.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any

import structlog
from fastapi.responses import JSONResponse
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import NotPermitted, choose_role
from api.auth import Principal as PrincipalModel
from api.deps import AppState
from api.errors import PROBLEM_JSON, Problem, to_problem
from api.models import ActOutcome
from definitions import Registry as DefinitionRegistry
from definitions import UnknownKind
from store.acts import KeyRecord
from workflows import search
from workflows.client import act as send_act
from workflows.client import handle
from workflows.lifecycle import act_digest
from workflows.messages import Act, Actor, ActResult
from workflows.refusals import ActRefused

log = structlog.stdlib.get_logger("convene.api")  # lazy: resolved after logs.configure()

REPLAYED = "Idempotent-Replayed"
"""Header on an answer given again from the key's record (as Stripe names it)."""

RETRIED_RPC = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.DEADLINE_EXCEEDED,
               RPCStatusCode.ABORTED, RPCStatusCode.CANCELLED}
"""Temporal's answers that say "not now" (unreachable, too many updates in flight, aborted): the act was not
decided, and the same update id sent again is safe."""

REFUSAL_TYPES = {"Forbidden", "Conflict", "Invalid"}
"""The workflow's refusals (``ApplicationError.type``): final for the key."""


class _Pending(Exception):
    """The deadline passed before the event answered; the key stays pending."""


def fingerprint(event_id: str, principal: str, act: Act) -> str:
    """What a key stands for: the event, the sender and the act as they asked for it (without the key)."""
    return hashlib.sha256(f"{event_id}\n{principal}\n{act_digest(act)}".encode()).hexdigest()


def _replay(record: KeyRecord) -> JSONResponse:
    assert record.http_status is not None and record.answer is not None
    media = "application/json" if record.http_status < 400 else PROBLEM_JSON
    return JSONResponse(record.answer, status_code=record.http_status, media_type=media, headers={REPLAYED: "true"})


def _retry_after(app: AppState) -> dict[str, str]:
    return {"Retry-After": str(app.settings.retry_after_seconds)}


async def perform(client: Client, registry: DefinitionRegistry, app: AppState, principal: PrincipalModel,
                  event_id: str, key: str, as_role: str | None, act_: Act) -> ActOutcome | JSONResponse:
    """Do `act_` (built with ``Actor(principal.id, as_role or their first role)``) once for `key`.

    Returns:
        the act's outcome (200), or the key's recorded answer again (its status and body).

    Raises:
        Problem: 403/409/422 for a refusal (recorded: final for the key), 422 for a key used for another
            request, 404 for an unknown event, 409 "in progress" or 503 (both with ``Retry-After``) when
            the event has not answered within the deadline (the key stays pending).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + app.settings.temporal_rpc_timeout_seconds
    await app.store_ready()
    keys = app.act_keys
    fp = fingerprint(event_id, principal.id, act_)
    record, made = await keys.claim(event_id, key, principal.id, fp, datetime.now(timezone.utc))
    if record.fingerprint != fp:
        raise Problem(422, f"Idempotency-Key {key!r} was used for another request on this event; a new act "
                      "needs a new key", slug="idempotency-key-reused")
    if record.final:
        log.info("act answered again", key=key, status=record.status)
        return _replay(record)
    try:
        result = await _decide(client, registry, app, principal, event_id, as_role, act_, deadline)
    except _Pending:
        if made:
            raise Problem(503, f"the event has not answered yet; the act may still be applied. Resend it with the "
                          f"same Idempotency-Key, or ask GET /events/{event_id}/acts/{key}",
                          slug="act-pending", headers=_retry_after(app)) from None
        raise Problem(409, "an earlier request with this Idempotency-Key is still in progress; ask again later",
                      slug="act-in-progress", headers=_retry_after(app)) from None
    except _NoEvent:
        if made:
            await keys.release(event_id, key, fp)
        raise Problem(404, "no such event") from None
    except (NotPermitted, ActRefused, WorkflowUpdateFailedError) as err:
        problem = to_problem(err)
        if problem.status >= 500:
            raise
        stored = await keys.finish(event_id, key, "refused", problem.status, problem.body(), datetime.now(timezone.utc))
        log.info("act refused", key=key, status=problem.status, by=principal.id)
        if stored is not None and stored.final and stored.answer != problem.body():  # another attempt answered first
            return _replay(stored)
        raise  # the error handler says it in the reader's language (the record keeps the English)
    outcome = ActOutcome(result=result)
    body = outcome.model_dump(mode="json")
    stored = await keys.finish(event_id, key, "accepted", 200, body, datetime.now(timezone.utc))
    if stored is not None and stored.final and stored.answer != body:
        return _replay(stored)
    return outcome


class _NoEvent(Exception):
    """There is no event with this id (never started, or so long gone that Temporal forgot it)."""


async def _decide(client: Client, registry: DefinitionRegistry, app: AppState, principal: PrincipalModel,
                  event_id: str, as_role: str | None, act_: Act, deadline: float) -> ActResult:
    """Who may, then the act as its update, retried on what a resend fixes until `deadline`."""
    loop = asyncio.get_running_loop()
    info = await _until(deadline, lambda: app.events.get(client, event_id))
    try:
        definition = registry.get(info.kind)
    except UnknownKind:  # a kind no longer loaded here: the workflow's own check is the only one
        role = act_.actor.role
    else:
        role = choose_role(principal, definition, info.details, act_, as_role)
    act_ = act_.model_copy(update={"actor": Actor(id=principal.id, role=role)})
    pause = 0.1
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise _Pending
        try:
            async with asyncio.timeout(remaining):
                result = await send_act(client, event_id, act_, rpc_timeout=timedelta(seconds=remaining), final=True)
            log.info("act applied", act=result.act, seq=result.seq, role=role, stage=result.stage)
            return result
        except WorkflowUpdateFailedError as err:
            if isinstance(err.cause, ApplicationError) and err.cause.type in REFUSAL_TYPES:
                raise
            # Not a refusal: the server dropped the update before the workflow took it ("unprocessed"), or the
            # run ended while it waited. The same update id again lands on the same decision, or a new one.
            log.info("act not taken; retrying", error=str(err.cause or err))
        except (WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError):
            if deadline - loop.time() <= 0.05:
                raise _Pending from None
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                await _closed_or_missing(client, event_id, deadline)  # refused, or no such event; else retried
            elif err.status not in RETRIED_RPC:
                raise
            else:
                log.info("temporal busy; retrying", status=err.status.name)
        await asyncio.sleep(min(pause, max(deadline - loop.time(), 0)))
        pause = min(pause * 2, 1.0)


async def _until(deadline: float, call: Any) -> Any:
    """`call()` awaited until `deadline`; the event's details are needed before anything is sent."""
    remaining = deadline - asyncio.get_running_loop().time()
    try:
        async with asyncio.timeout(max(remaining, 0.001)):
            return await call()
    except TimeoutError:
        raise _Pending from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise _NoEvent from None
        if err.status in RETRIED_RPC:
            raise _Pending from None
        raise


async def _closed_or_missing(client: Client, event_id: str, deadline: float) -> None:
    """After NOT_FOUND from an update: an event that has ended takes no more acts (a refusal, 409); one that
    does not exist is 404."""
    description = await _until(deadline, lambda: handle(client, event_id).describe(
        rpc_timeout=timedelta(seconds=max(deadline - asyncio.get_running_loop().time(), 0.001))))
    stage = description.typed_search_attributes.get(search.STAGE)
    status = description.status.name.lower() if description.status is not None else "closed"
    if status == "running":  # it is there and running: the NOT_FOUND was about something passing
        return
    raise ActRefused("conflict", f"the event is {stage or status}; it takes no more acts")
