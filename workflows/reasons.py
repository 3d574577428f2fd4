"""Why a gate is still open: each reason as the English sentence it always was, and as a message id with
parameters that a reader's language can say (:mod:`convene.reasons` renders them).

The lifecycle builds reasons with :func:`because` (one message) and :func:`because_n` (a message with a
plural, chosen by ``count``); ``pybabel extract -k because -k because_n:1,2`` finds them. Nothing here
translates or formats for a language: the workflow stays free of I/O, and parameters are raw, JSON-safe
values (money as a decimal string with its ``currency``, times as ISO 8601 with the event's ``zone``,
shares as fractions, spans as ``span_value`` + ``span_unit``) that the renderer formats with CLDR.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from convene.reason_message import ReasonMessage


class Reason(NamedTuple):
    """One reason: ``text`` is the English sentence the view has always shown (stored and tested as is),
    ``message`` what a reader's language renders."""

    text: str
    message: ReasonMessage


def because(message: str, /, english: str | None = None, **params: Any) -> Reason:
    """A reason from a msgid and its parameters; ``english`` is the legacy sentence when it is not simply
    ``message % params``."""
    text = english if english is not None else (message % params if params else message)
    return Reason(text, ReasonMessage(message_id=message, params=params))


def because_n(singular: str, plural: str, count: int, /, english: str | None = None, **params: Any) -> Reason:
    """A reason whose wording depends on ``count`` (``1 invitation`` / ``2 invitations``); ``count`` joins
    ``params``. ``english`` as for :func:`because`."""
    params = {"count": count, **params}
    text = english if english is not None else (singular if count == 1 else plural) % params
    return Reason(text, ReasonMessage(message_id=singular, plural=plural, params=params))
