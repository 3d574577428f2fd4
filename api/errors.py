"""The one place where failures become HTTP answers: ``application/problem+json`` bodies.

Every answer that is not a success has the same shape (RFC 9457)::

    {"type": "/problems/forbidden", "title": "Forbidden", "status": 403, "detail": "..."}

Domain errors (a refused act, an unknown kind, an authorisation failure) and
Temporal's errors (an update the workflow refused, a missing workflow, an
unreachable server) are mapped here and nowhere else; routes raise them, or
:class:`Problem` for what only HTTP knows.
"""

from __future__ import annotations

from typing import Any

import pydantic
import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from temporalio.client import (
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import NotPermitted, NotVisible, Unauthenticated
from convene import i18n
from definitions import UnknownKind
from workflows.refusals import ActRefused

PROBLEM_JSON = "application/problem+json"

log = structlog.stdlib.get_logger("convene.api")  # lazy: resolved after logs.configure()

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid",
    500: "Internal error",
    503: "Service unavailable",
}
_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "invalid",
    500: "internal",
    503: "unavailable",
}
_REFUSALS = {"forbidden": 403, "conflict": 409, "invalid": 422}
"""ActRefused.kind (and the workflow's ApplicationError.type, capitalised) -> HTTP status."""

REFUSALS = frozenset({"act-invalid", "unknown-kind", "unknown-page-token", "undecodable", "no-rows",
                      "idempotency-key-reused"})
"""Slugs of the 422 answers to requests the schema allows but the server cannot process: what they name does not
exist where it is sent (a gate of another kind, a kind not loaded, a page token this API never gave, an encoding
Python lacks), a file holds no row, or an Idempotency-Key was used before for another request (as the IETF
Idempotency-Key draft says, 422). Published in the OpenAPI document as ``x-refusals`` (:mod:`api.contract`);
every other 422 (``/problems/invalid``) is the schema's own rule, and the document states it."""


class Problem(Exception):
    """An HTTP answer that is not a success; raised only at the edge (routes, deps)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.slug = slug or _SLUGS.get(status, "error")
        self.headers = headers or {}
        self.extra = extra
        super().__init__(detail)

    def body(self) -> dict[str, Any]:
        return {"type": f"/problems/{self.slug}", "title": self.title, "status": self.status, "detail": self.detail,
                **self.extra}


class TemporalUnavailable(Exception):
    """Temporal cannot be reached (not connected yet, connection refused, server unavailable)."""


class DatabaseUnavailable(Exception):
    """The roster database cannot be reached (or migrated) now."""


_DATABASE_DOWN = (DatabaseUnavailable, sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
                  sqlalchemy.exc.TimeoutError)
"""Failures of the database that pass: not reachable, locked for too long, no connection free in time."""


def not_found(detail: str) -> Problem:
    return Problem(404, detail)


def conflict(detail: str, **extra: Any) -> Problem:
    return Problem(409, detail, **extra)


def invalid(detail: str, **extra: Any) -> Problem:
    return Problem(422, detail, **extra)


def _unavailable(detail: str, retry_after: int) -> Problem:
    return Problem(503, detail, headers={"Retry-After": str(retry_after)})


def _refusal(status: int, kind: str, english: str, details: Any, language: str) -> Problem:
    """A refused act's answer: ``detail`` in the reader's language, with the message id and parameters it was
    built from (``message_id``, ``params``) so a client can say it its own way."""
    if not (isinstance(details, dict) and isinstance(details.get("message_id"), str)):
        return Problem(status, english, slug=f"act-{kind}")
    params = details.get("params") if isinstance(details.get("params"), dict) else {}
    detail = i18n.render_message(language, details["message_id"], params)
    return Problem(status, detail, slug=f"act-{kind}", message_id=details["message_id"], params=params)


def to_problem(exc: BaseException, retry_after: int = 5, language: str = "en") -> Problem:
    """The HTTP answer for any exception a route may let through; a refused act is said in ``language``."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, Unauthenticated):
        challenge = 'Bearer realm="convene"' + (', error="invalid_token"' if exc.invalid_token else "")
        return Problem(401, exc.detail, headers={"WWW-Authenticate": challenge})
    if isinstance(exc, NotVisible):  # the very answer an unknown event gets: nothing to tell them apart
        return Problem(404, "no such event")
    if isinstance(exc, NotPermitted):
        return Problem(403, exc.detail)
    if isinstance(exc, ActRefused):
        details = {"message_id": exc.message_id, "params": exc.params}
        return _refusal(_REFUSALS.get(exc.kind, 422), exc.kind, exc.message, details, language)
    if isinstance(exc, _DATABASE_DOWN):
        return _unavailable("the database is unavailable; try again shortly", retry_after)
    if isinstance(exc, UnknownKind):
        return Problem(422, str(exc), slug="unknown-kind", known_kinds=exc.known)
    if isinstance(exc, WorkflowUpdateFailedError):
        cause = exc.cause
        if isinstance(cause, ApplicationError) and (cause.type or "").lower() in _REFUSALS:
            kind = (cause.type or "").lower()
            details = cause.details[0] if cause.details else None  # events started before message ids have none
            return _refusal(_REFUSALS[kind], kind, cause.message, details, language)
        # Not one of the event's refusals: the server dropped the update before the workflow took it
        # ("unprocessed"), or the run ended while it waited. Nothing was applied; the same key again is safe.
        return _unavailable("the event did not take the act; resend it with the same Idempotency-Key", retry_after)
    if isinstance(exc, WorkflowUpdateRPCTimeoutOrCancelledError):
        return _unavailable("the event did not answer in time; retry with the same Idempotency-Key", retry_after)
    if isinstance(exc, WorkflowAlreadyStartedError):
        return Problem(409, "an event with this id already exists")
    if isinstance(exc, WorkflowQueryFailedError):
        return Problem(500, "the event could not be read")
    if isinstance(exc, RPCError):
        if exc.status == RPCStatusCode.NOT_FOUND:
            return Problem(404, "no such event")
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED,
                          RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.CANCELLED, RPCStatusCode.ABORTED):
            # CANCELLED is also how the client reports its own rpc_timeout expiring ("Timeout expired")
            return _unavailable("Temporal is unavailable; try again shortly", retry_after)
        if exc.status == RPCStatusCode.ALREADY_EXISTS:
            return Problem(409, "already exists")
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            return Problem(422, "the request was refused by Temporal as invalid")
        if exc.status == RPCStatusCode.PERMISSION_DENIED:
            return Problem(500, "the API is not allowed to use this Temporal namespace")
        return Problem(500, "Temporal answered with an error")
    if isinstance(exc, TemporalUnavailable | ConnectionError) or (
        isinstance(exc, RuntimeError) and str(exc).startswith("Failed client connect")
    ):
        return _unavailable("Temporal is unavailable; try again shortly", retry_after)
    if isinstance(exc, pydantic.ValidationError):  # an internal act built from a valid body but refused by its model
        return Problem(422, "the request is not valid", errors=_errors(exc.errors(include_url=False)))
    return Problem(500, "unexpected error")


def _errors(errors: Any) -> list[dict[str, Any]]:
    """Validation errors without the submitted values (they may hold personal data)."""
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors]


def problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(problem.body(), status_code=problem.status, headers=problem.headers, media_type=PROBLEM_JSON)


def request_language(request: Request) -> str:
    """The language a request reads answers in: the page's language cookie (the dashboard's scripts send it),
    else its Accept-Language by q-value, else English."""
    return i18n.preferred(request.cookies.get("convene_lang"), accept_language=request.headers.get("accept-language"))


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(app: FastAPI, scope: dict[str, Any]) -> list[str]:
    """Every method some route fully matches at the request's path (Starlette's own 405 names only the first
    route's): each method is tried against the routes as the router itself would."""
    return [method for method in _METHODS
            if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in app.router.routes)]


def install(app: FastAPI, retry_after: int) -> None:
    """Register the handlers: every error leaves the API as problem+json."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        problem = to_problem(exc, retry_after, request_language(request))
        if problem.status >= 500 and problem.status != 503:
            log.error("request failed", status=problem.status, error=type(exc).__name__, exc_info=exc)
        else:
            log.info("request refused", status=problem.status, problem=problem.slug, error=type(exc).__name__)
        return problem_response(problem)

    async def handle_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _errors(exc.errors())
        log.info("request refused", status=422, problem="invalid", errors=len(errors))
        first = errors[0] if errors else None
        where = ".".join(str(p) for p in first["loc"] if p != "body") if first else ""
        detail = f"{where}: {first['msg']}" if first and where else (first["msg"] if first else "invalid request")
        return problem_response(Problem(422, detail, errors=errors))

    async def handle_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(app, dict(request.scope)))
        return problem_response(Problem(exc.status_code, detail, headers=headers))

    app.add_exception_handler(RequestValidationError, handle_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, handle_http)  # type: ignore[arg-type]
    for exc_type in (Problem, Unauthenticated, NotVisible, NotPermitted, ActRefused, *_DATABASE_DOWN, UnknownKind,
                     WorkflowUpdateFailedError,
                     WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowAlreadyStartedError,
                     WorkflowQueryFailedError, RPCError, TemporalUnavailable, ConnectionError, RuntimeError,
                     pydantic.ValidationError, Exception):
        app.add_exception_handler(exc_type, handle)


ACT_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token"},
    403: {"description": "The caller holds no role allowed for this"},
    404: {"description": "No such event"},
    409: {"description": "Not possible now (stage, state), or an earlier request with this Idempotency-Key is "
                         "still in progress (problem type /problems/act-in-progress, with Retry-After)"},
    422: {"description": "The body or the act is invalid, or the Idempotency-Key was used for another request"},
    503: {"description": "Temporal or the database is unavailable, or the event did not answer in time: the act "
                         "may still be applied; resend it with the same Idempotency-Key (Retry-After says when)"},
}
"""What an act's route may answer besides 200 (api.contract adds 400 and the problem+json media type)."""

READ_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: ACT_PROBLEMS[401], 404: {"description": "No such event, or not one the caller may read"},
}
"""What a route reading one event may answer besides 200."""
