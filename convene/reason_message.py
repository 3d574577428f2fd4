"""A gate's reason as a catalogue message: what the workflow stores (:mod:`workflows.reasons` builds them)
and what :mod:`convene.reasons` says in a reader's language. Ground floor: pydantic only."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ReasonMessage(BaseModel):
    """A reason as a catalogue message: ``message_id`` (the English msgid, ``%(name)s`` placeholders),
    ``plural`` (the plural msgid, chosen by ``params["count"]``, or None) and the ``params`` that fill it."""

    message_id: str
    plural: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
