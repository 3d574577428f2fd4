"""The HTTP API: ``create_app(settings)``; run with ``uvicorn --factory api.main:app``.

The app connects to Temporal in its lifespan unless a client is given (tests
pass the dev server's). If Temporal is down at start-up the app still starts:
``/readyz`` and every call that needs Temporal answer 503 until it is back.

It holds one :class:`store.Database` (``CONVENE_DATABASE_URL``) for the process: migrated in
the lifespan (or, if it cannot be reached then, on first use) and disposed at shutdown.

``GET /metrics`` serves its Prometheus metrics (:mod:`api.metrics`); with ``CONVENE_OTLP_ENDPOINT`` every
request is a span, carried into Temporal by the client's tracing interceptor (:mod:`convene.telemetry`).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client

from api import contract, errors, metrics, signin
from api.auth import TokenBook
from api.deps import AppState
from api.errors import DatabaseUnavailable, TemporalUnavailable
from api.metrics import ApiMetrics
from api.routes import (
    definitions,
    desk,
    documents,
    events,
    exports,
    health,
    organisations,
    outcomes,
    pages,
    papers,
    personal,
    risks,
    roster,
)
from api.settings import api_settings
from convene.logs import configure
from convene.settings import Settings, get_settings
from convene.telemetry import tracer_provider, tracing_interceptor
from definitions import Registry, shipped
from store import Database

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = structlog.stdlib.get_logger("convene.api")  # lazy: resolved after logs.configure()

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class RequestContext:
    """Binds a request id (``X-Request-ID`` or a new one) to every log line, echoes it, logs one access line.

    Only the route's template is logged (``/events/{event_id}/attendees/{attendee_id}/rsvp``), never
    headers, bodies or query strings: no token or personal data reaches the log.
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", None) or "(no route)"
            seconds = time.perf_counter() - started
            log.info("request", method=scope["method"], route=route, status=status, ms=round(seconds * 1000, 1))
            if self.metrics is not None:
                self.metrics.observe_request(scope["method"], route, status, seconds)
            structlog.contextvars.clear_contextvars()


def create_app(settings: Settings | None = None, client: Client | None = None,
               registry: Registry | None = None, database: Database | None = None,
               tracing: TracerProvider | None = None) -> FastAPI:
    """The API for `settings` (an :class:`api.settings.ApiSettings`, or plain settings plus the env).

    Args:
        settings: where Temporal is, the task queue, the database, and who may call (tokens).
        client: a connected Temporal client to use instead of connecting in the lifespan (give it the
            tracing interceptor yourself if requests should be traced into Temporal).
        registry: the definitions to start events with (default: ``definitions_dir`` or the shipped ones).
        database: a database to use instead of one made from ``database_url`` (it is disposed at shutdown).
        tracing: a tracer provider for the requests' spans instead of one for ``otlp_endpoint`` (none: off).
    """
    cfg = api_settings(settings or get_settings())
    if registry is None:
        registry = Registry.from_dir(cfg.definitions_dir) if cfg.definitions_dir else shipped()
    tokens = TokenBook.from_settings(cfg.tokens_file, cfg.tokens.get_secret_value() if cfg.tokens else None)
    own_tracing = tracing is None
    if tracing is None:
        tracing = tracer_provider(cfg, "api")  # None unless CONVENE_OTLP_ENDPOINT is set
    interceptor = tracing_interceptor(tracing) if client is None else None
    state = AppState(cfg, registry, tokens, client, database, interceptors=[interceptor] if interceptor else [])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        configure(cfg.log_level, cfg.log_json)
        if not len(tokens):
            log.warning("no principals configured (CONVENE_TOKENS_FILE / CONVENE_TOKENS): every call answers 401")
        if cfg.dev_sign_in:
            log.warning("one-click dev sign-in is on: whoever reaches this API can sign in as the dev team",
                        file=str(cfg.dev_sign_in))
        try:
            await state.store_ready()
        except DatabaseUnavailable:
            log.warning("starting without the database; attendee routes answer 503 until it is reachable")
        if not state.connected:
            try:
                await state.client()
            except TemporalUnavailable:
                log.warning("starting without Temporal; /readyz answers 503 until it is reachable")
        try:
            yield {}
        finally:
            await state.database.dispose()
            if own_tracing and tracing is not None:
                tracing.shutdown()  # sends the last batch of spans

    app = FastAPI(
        title="Convene",
        summary="Event lifecycles (preparation to post-event) as durable Temporal workflows.",
        version="0.1.0",
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry spans, one per request (the route template as its name), only with a
        # provider; never its logs (they would carry bodies of failed validations) nor its OTel metrics.
        telemetry={"tracing": tracing is not None, "tracer_provider": tracing, "metrics": False, "logs": False,
                   "operation_spans": False, "auto_configure": False},
    )
    app.state.convene = state
    errors.install(app, cfg.retry_after_seconds)
    contract.install(app, registry.kinds())
    app.add_middleware(RequestContext, metrics=state.metrics)
    if cfg.metrics_enabled:
        app.include_router(metrics.router)
    app.include_router(health.router)
    app.include_router(events.router)
    app.include_router(roster.router)
    app.include_router(exports.router)
    app.include_router(definitions.router)
    app.include_router(pages.router)
    app.include_router(documents.router)
    app.include_router(risks.router)
    app.include_router(outcomes.router)
    app.include_router(papers.router)  # before personal's: /p/{token}/papers/{doc_id} and /p/{token}/acknowledge
    app.include_router(personal.router)
    app.include_router(desk.router)
    app.include_router(organisations.router)
    app.include_router(signin.router)
    app.mount("/static", pages.static_files(), name="static")
    return app


def app() -> FastAPI:
    """``uvicorn --factory api.main:app``: settings from the environment."""
    return create_app()
