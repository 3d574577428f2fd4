"""Refusals: an act that cannot be applied, and why. Shared by the workflow, the roster store and the API.

A refusal carries a message id (its English text with ``%(name)s`` / ``%(name)r`` placeholders, a msgid
of the catalogue in ``convene/locale``) and the parameters that fill it, so the API can say it in the
reader's language; ``message`` is the English sentence, exactly as before message ids existed. Nothing
here translates: the workflow stays free of I/O and keeps English in what it stores.
"""

from __future__ import annotations

from typing import Any


class ActRefused(Exception):
    """An act that cannot be applied; nothing was changed.

    Attributes:
        kind: ``forbidden`` (the actor may not), ``conflict`` (not now, in this
            stage or state), ``invalid`` (unknown gate/task/person, bad values).
        message: a sentence (English) for the person who tried.
        message_id: the catalogue's msgid for it (``message`` itself when it was built without parameters).
        params: what fills the msgid's placeholders (strings and numbers; JSON-safe).
    """

    def __init__(self, kind: str, message: str, params: dict[str, Any] | None = None) -> None:
        self.kind = kind
        self.message_id = message
        self.params = dict(params or {})
        self.message = message % self.params if self.params else message
        super().__init__(self.message)


def forbidden(msg: str, **params: Any) -> ActRefused:
    return ActRefused("forbidden", msg, params)


def conflict(msg: str, **params: Any) -> ActRefused:
    return ActRefused("conflict", msg, params)


def invalid(msg: str, **params: Any) -> ActRefused:
    return ActRefused("invalid", msg, params)
