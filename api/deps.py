"""Dependencies of the routes, as ``Annotated`` aliases: the Temporal client, the caller, the definitions,
the roster database (:class:`store.Roster`, :class:`store.Journal`) and the cache of event details."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated

import structlog
from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client, Interceptor

from api.auth import NotPermitted, TokenBook, Unauthenticated
from api.auth import Principal as PrincipalModel
from api.errors import DatabaseUnavailable, TemporalUnavailable, request_language
from api.eventinfo import EventInfoCache
from api.metrics import ApiMetrics
from api.settings import ApiSettings
from api.signin import session_principal
from convene.client import connect
from definitions import Registry as DefinitionRegistry
from store import Database
from store import Journal as JournalStore
from store import Roster as RosterStore
from store.acts import ActKeys
from store.subscriptions import Subscriptions as SubscriptionStore

log = structlog.stdlib.get_logger("convene.api")  # lazy: resolved after logs.configure()

SAFE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


class AppState:
    """What the app holds for its lifetime: the Temporal client ((re)connected on demand if it is missing),
    the one database of the process with its roster and journal, and the cache of event details."""

    def __init__(self, settings: ApiSettings, registry: DefinitionRegistry, tokens: TokenBook,
                 client: Client | None = None, database: Database | None = None,
                 interceptors: Sequence[Interceptor] = ()) -> None:
        self.settings = settings
        self.interceptors = list(interceptors)  # for the client this connects (tracing)
        self.metrics = ApiMetrics(settings.metrics_cache_seconds)
        self.registry = registry
        self.tokens = tokens
        self._client = client
        self._lock = asyncio.Lock()
        self._last_attempt = float("-inf")
        self.group_by_stage: bool | None = None  # learnt on first use: can the server GROUP BY EventStage?
        self.database = database or Database(settings.database_url, pool_size=settings.database_pool_size)
        self.roster = RosterStore(self.database, on_applied=self.metrics.attendee_act)
        self.journal = JournalStore(self.database)
        self.subscriptions = SubscriptionStore(self.database)
        self.rpc_timeout = timedelta(seconds=settings.temporal_rpc_timeout_seconds)
        self.events = EventInfoCache(ttl=settings.event_cache_seconds, rpc_timeout=self.rpc_timeout)
        self.act_keys = ActKeys(self.database, window=timedelta(hours=settings.idempotency_window_hours))
        self._migrated = False

    async def store_ready(self) -> None:
        """The database at the newest schema (migrated once; retried on use while it cannot be reached).

        Raises:
            DatabaseUnavailable: it cannot be reached or migrated now.
        """
        if self._migrated:
            return
        try:
            await self.database.migrate()
        except Exception as exc:  # noqa: BLE001 - whatever stops it (refused, locked, bad URL), it is not usable
            log.warning("database not ready", database=repr(self.database), error=type(exc).__name__)
            raise DatabaseUnavailable("the database cannot be reached") from exc
        self._migrated = True

    @property
    def connected(self) -> bool:
        return self._client is not None

    async def client(self) -> Client:
        """The Temporal client, connecting first if start-up could not (at most every few seconds).

        Raises:
            TemporalUnavailable: Temporal cannot be reached now.
        """
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                now = time.monotonic()
                if now - self._last_attempt < self.settings.reconnect_interval_seconds:
                    raise TemporalUnavailable("not connected to Temporal")
                self._last_attempt = now
                try:
                    self._client = await connect(self.settings, interceptors=self.interceptors)
                except Exception as exc:  # noqa: BLE001 - any failure to connect means "unavailable"
                    log.warning("temporal connect failed", address=self.settings.temporal_address,
                                error=type(exc).__name__)
                    raise TemporalUnavailable("cannot connect to Temporal") from exc
                log.info("temporal connected", address=self.settings.temporal_address)
        return self._client


def get_state(request: Request) -> AppState:
    return request.app.state.convene


State = Annotated[AppState, Depends(get_state)]


async def get_client(state: State) -> Client:
    return await state.client()


def get_registry(state: State) -> DefinitionRegistry:
    return state.registry


def get_settings(state: State) -> ApiSettings:
    return state.settings


async def get_roster(state: State) -> RosterStore:
    await state.store_ready()
    return state.roster


async def get_journal(state: State) -> JournalStore:
    await state.store_ready()
    return state.journal


async def get_subscriptions(state: State) -> SubscriptionStore:
    await state.store_ready()
    return state.subscriptions


_bearer = HTTPBearer(auto_error=False, description="A token from the tokens file (stored there as its SHA-256).")


async def get_principal(
    request: Request, state: State, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> PrincipalModel:
    """The authenticated caller: by bearer token, else by the session cookie of an OIDC sign-in
    (:mod:`api.signin`; a write by cookie needs its CSRF token), with the configured grants
    (``CONVENE_GRANTS``, :mod:`api.grants`) added. 401 with neither."""
    if credentials is None or not credentials.credentials:
        by_cookie = session_principal(request, state.settings)
        if by_cookie is None:
            raise Unauthenticated("a bearer token is required")
        structlog.contextvars.bind_contextvars(principal=by_cookie.id)
        return state.settings.grants.apply(by_cookie)
    principal = state.tokens.authenticate(credentials.credentials)
    structlog.contextvars.bind_contextvars(principal=principal.id)
    return state.settings.grants.apply(principal)


async def get_writer(principal: Annotated[PrincipalModel, Depends(get_principal)]) -> PrincipalModel:
    """A caller who may change something: viewers only read (403)."""
    if principal.read_only:
        raise NotPermitted(f"{principal.id} may only read")
    return principal


async def get_event_id(event_id: Annotated[str, Path(pattern=SAFE_ID, description="The event's id.")]) -> str:
    """The event id of the path, bound to every log line of the request."""
    structlog.contextvars.bind_contextvars(event_id=event_id)
    return event_id


TemporalClient = Annotated[Client, Depends(get_client)]
Principal = Annotated[PrincipalModel, Depends(get_principal)]
Writer = Annotated[PrincipalModel, Depends(get_writer)]
Registry = Annotated[DefinitionRegistry, Depends(get_registry)]
Settings = Annotated[ApiSettings, Depends(get_settings)]
EventId = Annotated[str, Depends(get_event_id)]
Roster = Annotated[RosterStore, Depends(get_roster)]
"""The attendees and their acts, in the roster database (migrated before first use)."""
Journal = Annotated[JournalStore, Depends(get_journal)]
"""The whole audit and every delivery, in the roster database."""
Subscriptions = Annotated[SubscriptionStore, Depends(get_subscriptions)]
"""Organisations' webhook subscriptions and who owns each event, in the roster database."""
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200,
           description="The same key twice applies the act once and answers the same, refusals included "
                       "(kept for CONVENE_IDEMPOTENCY_WINDOW_HOURS, 24 by default); the same key with another "
                       "request is refused (422)."),
]

Language = Annotated[str, Depends(request_language)]
"""The language a request reads answers in (``en``, ``zh-Hans``, ``zh-Hant``): the page's cookie, else
``Accept-Language`` by q-value (:func:`api.errors.request_language`)."""
