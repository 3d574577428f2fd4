"""Logging in one place: structlog for our code, and Temporal's stdlib loggers rendered
through the same processors, so everything is one JSON stream with the event id bound."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

_SECRET_KEYS = re.compile(r"(pass(word)?|secret|token|api_key|authorization|cookie)", re.IGNORECASE)


class SecretRedactor:
    """Replace the value of any key that looks like a secret; tokens never reach a log line."""

    def __call__(self, logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        for key in list(event_dict):
            if _SECRET_KEYS.search(key):
                event_dict[key] = "[redacted]"
        return event_dict


class TemporalExtras:
    """Lift the event id and Temporal's workflow/activity info out of stdlib `extra` dicts."""

    def __call__(self, logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        record = event_dict.get("_record")
        if record is None:
            return event_dict
        for attr in ("event_id", "kind", "stage", "act", "seq", "actor", "role", "steps", "status", "task", "error"):
            if hasattr(record, attr) and attr not in event_dict:
                event_dict[attr] = getattr(record, attr)
        wf = getattr(record, "temporal_workflow", None)
        if isinstance(wf, dict):
            event_dict.setdefault("workflow_id", wf.get("workflow_id"))
            event_dict.setdefault("run_id", wf.get("run_id"))
        act = getattr(record, "temporal_activity", None)
        if isinstance(act, dict):
            event_dict.setdefault("activity", act.get("activity_type"))
            event_dict.setdefault("workflow_id", act.get("workflow_id"))
            event_dict.setdefault("attempt", act.get("attempt"))
        return event_dict


_configured = False


def configure(level: str = "INFO", json: bool = True) -> None:
    """Configure structlog and the stdlib root logger once per process."""
    global _configured
    if _configured:
        return
    _configured = True
    from temporalio import activity, workflow

    # Temporal's adapters append their info dict to the message; we want it as fields.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        TemporalExtras(),
        SecretRedactor(),
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str | None = None, **bound: Any) -> Any:
    """A lazy structlog logger: safe to create at import time, configured when first used."""
    return structlog.get_logger(name, **bound)
