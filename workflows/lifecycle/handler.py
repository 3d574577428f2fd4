"""What handles one act: a check that refuses it (changing nothing) and an apply that does it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Handler:
    """One act's handling.

    ``check(lc, act)`` raises :class:`~workflows.refusals.ActRefused` when the act cannot be applied now (the
    workflow's update validator calls it, so a refused act leaves no trace in history); ``apply(lc, act)``
    changes the record, queues effects on ``lc.effects`` and returns the audit entry's summary (one English
    sentence). Who may do the act is declared on the act's class (``permission``, or its ``roles()``).
    """

    check: Callable[[Any, Any], None]
    apply: Callable[[Any, Any], str]
