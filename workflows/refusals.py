"""Refusals: an act that cannot be applied, and why. Shared by the workflow, the roster store and the API."""

from __future__ import annotations


class ActRefused(Exception):
    """An act that cannot be applied; nothing was changed.

    Attributes:
        kind: ``forbidden`` (the actor may not), ``conflict`` (not now, in this
            stage or state), ``invalid`` (unknown gate/task/person, bad values).
        message: a sentence for the person who tried.
    """

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(message)


def forbidden(msg: str) -> ActRefused:
    return ActRefused("forbidden", msg)


def conflict(msg: str) -> ActRefused:
    return ActRefused("conflict", msg)


def invalid(msg: str) -> ActRefused:
    return ActRefused("invalid", msg)
