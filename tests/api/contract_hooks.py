"""schemathesis hooks for the contract test (``SCHEMATHESIS_HOOKS=tests.api.contract_hooks``).

They read only what the published document says, so they hold for any route added later (and generate
date-times in the years the document allows, so few are filtered away):

- ``x-after`` (:data:`api.models.AFTER`): a body schema's cross-field rule (``{"end": "start"}``: end later
  than start), which JSON Schema cannot express. Bodies generated as valid that break it are not sent as
  valid ones (the server refuses them with 422, as the document says).
- ``x-refusals``: problem types the server answers 422 to a well-formed request that names something the
  event or the deployment does not have (a gate of another kind, a page token it never gave). Such an answer
  to a generated "valid" request is the documented refusal, not a contract fault; any other 422 to a valid
  request (``/problems/invalid``: the schema said yes, the server no) stays a failure.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import schemathesis
from hypothesis import strategies as st

from api.bodies import YEARS


def _two(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n:02d}")


_TIME = st.builds("{}:{}:{}{}".format, _two(0, 23), _two(0, 59), _two(0, 59),
                  st.just("") | st.integers(0, 999_999).map(lambda n: f".{n:06d}".rstrip("0") or ".0"))
_OFFSET = st.just("Z") | st.builds("{}{}:{}".format, st.sampled_from("+-"), _two(0, 23), _two(0, 59))
schemathesis.openapi.format("date-time", st.builds(
    "{}T{}{}".format, st.dates(date(YEARS[0], 1, 1), date(YEARS[1], 12, 31)).map(str), _TIME, _OFFSET))
"""Every date-time a request gives is published with the years the server takes (a pattern on the year):
generate date-times in those years rather than filter nearly all of 0001-9999 away."""


def _deref(root: dict[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
        seen += 1
    return node


def _rules(case: schemathesis.Case) -> dict[str, str]:
    """The ``x-after`` rules of the case's JSON body schema, if any."""
    operation = case.operation
    root = operation.schema.raw_schema
    body = operation.definition.raw.get("requestBody") or {}
    media = (_deref(root, body).get("content") or {}).get("application/json") or {}
    schema = _deref(root, media.get("schema"))
    if isinstance(schema, dict) and "anyOf" in schema:  # an optional body: {anyOf: [{$ref}, {type: null}]}
        schema = next((_deref(root, s) for s in schema["anyOf"] if "$ref" in s), schema)
    return schema.get("x-after", {}) if isinstance(schema, dict) else {}


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except (AttributeError, ValueError):
        return None


def _positive(case: schemathesis.Case) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def filter_case(context: schemathesis.HookContext, case: schemathesis.Case) -> bool:
    """Drop valid-by-schema bodies that break an ``x-after`` rule (the document says they are refused)."""
    if not _positive(case) or not isinstance(case.body, dict):
        return True
    for later, earlier in _rules(case).items():
        end, start = _when(case.body.get(later)), _when(case.body.get(earlier))
        if end is not None and start is not None and end.tzinfo and start.tzinfo and end <= start:
            return False
    return True


@schemathesis.hook
def filter_failure(context: schemathesis.HookContext, failure: Any, case: schemathesis.Case,
                   response: schemathesis.Response) -> bool:
    """Keep every failure but a documented refusal (``x-refusals``) of a request the schema allows."""
    if type(failure).__name__ != "RejectedPositiveData" or response.status_code != 422:
        return True
    refusals = set(case.operation.schema.raw_schema.get("x-refusals", []))
    try:
        problem = json.loads(response.content)
    except ValueError:
        return True
    return not (isinstance(problem, dict) and problem.get("type") in refusals)
