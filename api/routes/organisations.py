"""An organisation's webhook subscriptions: every team notification of its events, to a URL of its own.

Only the organisation's admins (``administers`` in the tokens file or ``CONVENE_GRANTS``; ``"*"`` for every
organisation) create, list, rotate and delete them; everyone else is refused (403) and learns nothing of
them. A subscription id of another organisation is not found (404), whoever asks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Body, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import NotPermitted, administers
from api.deps import Principal, Subscriptions
from api.errors import not_found
from definitions.schema import NotificationKind
from store.subscriptions import Subscription

router = APIRouter(prefix="/organisations", tags=["organisations"])
log = structlog.stdlib.get_logger("convene.api")

Organisation = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f/]+$",
                                   description="The organisation, as its identity provider's claim names it.")]
SubscriptionId = Annotated[str, Path(pattern=r"^sub_[0-9a-f]{24}$", description="The subscription's id.")]

_PROBLEMS = {
    401: {"description": "No valid bearer token"},
    403: {"description": "The caller does not administer this organisation"},
    422: {"description": "The body or a path parameter is invalid"},
    503: {"description": "The database is unavailable"},
}


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: str = Field(max_length=2000, pattern=r"^https?://[^\s]+$", description="Where deliveries are POSTed.")
    kinds: list[NotificationKind] = Field(default_factory=list, max_length=20, description=(
        "The notification kinds delivered; empty: every kind."))


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    previous_valid_hours: float = Field(default=24.0, ge=0, le=24 * 30, description=(
        "How long the replaced secret keeps signing beside the new one (0: it stops at once)."))


class SubscriptionWithSecret(Subscription):
    secret: str = Field(description="whsec_<base64>: give it to the receiver's Standard Webhooks library. "
                                    "Shown this once.")


class SubscriptionList(BaseModel):
    items: list[Subscription]


def _admin(principal: Principal, organisation: str) -> None:
    if not administers(principal, organisation):
        raise NotPermitted(f"{principal.id} does not administer the organisation {organisation!r}")
    structlog.contextvars.bind_contextvars(organisation=organisation)


@router.post("/{organisation}/subscriptions", status_code=201, response_model=SubscriptionWithSecret,
             responses=_PROBLEMS)
async def create_subscription(organisation: Organisation, body: SubscriptionIn, principal: Principal,
                              subscriptions: Subscriptions, response: Response) -> SubscriptionWithSecret:
    """Subscribe a URL to the organisation's notifications (of `kinds`, or all); answers its secret once."""
    _admin(principal, organisation)
    sub, secret = await subscriptions.create(organisation, body.url, body.kinds, principal.id)
    log.info("webhook subscription created", subscription=sub.id, kinds=sub.kinds, by=principal.id)
    response.headers["Location"] = f"/organisations/{organisation}/subscriptions/{sub.id}"
    return SubscriptionWithSecret(**sub.model_dump(), secret=secret)


@router.get("/{organisation}/subscriptions", response_model=SubscriptionList, responses=_PROBLEMS)
async def list_subscriptions(organisation: Organisation, principal: Principal,
                             subscriptions: Subscriptions) -> SubscriptionList:
    """The organisation's subscriptions, oldest first (never their secrets)."""
    _admin(principal, organisation)
    return SubscriptionList(items=await subscriptions.list(organisation))


@router.delete("/{organisation}/subscriptions/{subscription_id}", status_code=204,
               responses={**_PROBLEMS, 404: {"description": "The organisation has no such subscription"}})
async def delete_subscription(organisation: Organisation, subscription_id: SubscriptionId, principal: Principal,
                              subscriptions: Subscriptions) -> Response:
    """Stop a subscription: nothing more is delivered to it."""
    _admin(principal, organisation)
    if not await subscriptions.delete(organisation, subscription_id):
        raise not_found("no such subscription")
    log.info("webhook subscription deleted", subscription=subscription_id, by=principal.id)
    return Response(status_code=204)


@router.post("/{organisation}/subscriptions/{subscription_id}/rotate", response_model=SubscriptionWithSecret,
             responses={**_PROBLEMS, 404: {"description": "The organisation has no such subscription"}})
async def rotate_subscription_secret(organisation: Organisation, subscription_id: SubscriptionId,
                                     principal: Principal, subscriptions: Subscriptions,
                                     body: Annotated[RotateIn | None, Body()] = None) -> SubscriptionWithSecret:
    """A new secret (answered once); the replaced one keeps signing beside it for `previous_valid_hours`, so
    the receiver verifies with either while it moves to the new one."""
    _admin(principal, organisation)
    hours = (body or RotateIn()).previous_valid_hours
    rotated = await subscriptions.rotate(organisation, subscription_id, timedelta(hours=hours))
    if rotated is None:
        raise not_found("no such subscription")
    sub, secret = rotated
    log.info("webhook subscription secret rotated", subscription=sub.id, previous_valid_hours=hours, by=principal.id)
    return SubscriptionWithSecret(**sub.model_dump(), secret=secret)

