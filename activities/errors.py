"""The failures activities raise, as Temporal ``ApplicationError`` types.

The workflow's retry policies decide how often to try again; the activity
decides *whether* trying again can help. A refused address or a 4xx answer
will be refused again, so it is raised non-retryable and the workflow records
the failure at once instead of retrying for half an hour.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

PERMANENT_DELIVERY_FAILURE = "PermanentDeliveryFailure"
"""A message that can never be delivered as asked (refused address, 4xx, bad URL)."""

TRANSIENT_DELIVERY_FAILURE = "TransientDeliveryFailure"
"""A delivery that may succeed later (5xx, 429, timeout, connection refused)."""

UNSAFE_PATH = "UnsafePath"
"""A name that would place a file outside the archive root."""

UNKNOWN_NOTIFICATION_KIND = "UnknownNotificationKind"
"""A notification kind without templates."""


def permanent(message: str, type: str = PERMANENT_DELIVERY_FAILURE) -> ApplicationError:
    """A failure that retrying cannot fix."""
    return ApplicationError(message, type=type, non_retryable=True)


def transient(message: str, retry_after: timedelta | None = None) -> ApplicationError:
    """A failure worth retrying, optionally no sooner than ``retry_after`` (a server's Retry-After)."""
    return ApplicationError(message, type=TRANSIENT_DELIVERY_FAILURE, next_retry_delay=retry_after)


def unsafe_path(message: str) -> ApplicationError:
    """A path that would escape the archive root: refused, never retried."""
    return ApplicationError(message, type=UNSAFE_PATH, non_retryable=True)
