"""The published contract: FastAPI's OpenAPI document, made to say exactly what the server does.

FastAPI documents what the routes declare; the server also answers from shared places the routes never
see. :func:`install` completes the document once, for every operation, from those places:

- every failure is ``application/problem+json`` (:mod:`api.errors`), with the ``Problem`` schema;
- ``401`` (with ``WWW-Authenticate``) on every operation that takes a principal (it declares ``security``);
- ``400`` on every operation with a body (a body that cannot be parsed as its media type), and ``422`` on
  every operation with a parameter or a body (the request breaks the schema, or is refused as unprocessable:
  the problem types listed in ``x-refusals``, e.g. a gate the event's kind does not have);
- a body's strings that must not be empty must hold more than white space (bodies are stripped);
- patterns in the server's own regex dialect spelled out (``\\s`` is Unicode ``White_Space`` there);
- the event kinds ``POST /events`` takes: those this server has loaded;
- decimals published with the syntax they are parsed with (:meth:`_Schemas.decimal_schema`), and the years
  a date-time may fall in (:meth:`_Schemas.datetime_schema`);
- links from ``POST /events`` (both its 201 and its 200) to every operation on ``/events/{event_id}``,
  so a client or a fuzzer can follow an event from its start;
- cross-field rules a JSON Schema cannot say, as ``x-after: {"end": "start"}`` on the body schema (the
  server refuses such a body with 422; see :class:`api.models.NewEvent`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import fastapi._compat.v2 as fastapi_v2
from fastapi import FastAPI
from pydantic_core import core_schema

from api.bodies import YEAR_PATTERN
from api.errors import PROBLEM_JSON, REFUSALS

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details: every answer that is not a success.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "/problems/<slug>: what kind of problem (stable)."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong, in the reader's language for refused acts."},
        "errors": {"type": "array", "description": "Schema violations (422): where and why, never the values.",
                   "items": {"type": "object", "properties": {
                       "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                       "msg": {"type": "string"}, "type": {"type": "string"}}}},
    },
    "additionalProperties": True,
}
_PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}

_STANDARD = {
    "400": "The body cannot be parsed as its media type (not JSON, bad encoding)",
    "401": "No valid bearer token or session (`WWW-Authenticate` says how to authenticate)",
    "422": "The request breaks the schema (`errors` says where), or is well formed but refused as unprocessable "
           "(the problem types in `x-refusals`: a gate or task the event's kind lacks, an unknown kind...)",
}

_WHITE_SPACE = r"\t\n\x0B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
"""Unicode White_Space: what ``\\s`` matches in pydantic-core's regex engine (Rust ``regex``). ECMA-262, the
dialect of OpenAPI patterns, has no U+0085 and adds U+FEFF, so the document spells the set out."""


class _Schemas(fastapi_v2.GenerateJsonSchema):
    """FastAPI's JSON Schema generator, with a decimal's string form constrained as pydantic parses it."""

    def get_decimal_pattern(self, schema: core_schema.DecimalSchema) -> str | None:
        return self.build_decimal_pattern(schema)

    def str_schema(self, schema: core_schema.StringSchema) -> dict[str, Any]:
        """A body's strings are stripped before their length is checked (``str_strip_whitespace``): one that
        must not be empty must hold something besides white space."""
        json_schema = super().str_schema(schema)
        strips = schema.get("strip_whitespace") or self._config.config_dict.get("str_strip_whitespace")
        if self.mode == "validation" and strips and json_schema.get("minLength", 0) >= 1 \
                and "pattern" not in json_schema:
            json_schema["pattern"] = f"[^{_WHITE_SPACE}]"
        return json_schema

    def datetime_schema(self, schema: core_schema.DatetimeSchema) -> dict[str, Any]:
        """A date-time a request gives falls in the years the server takes (:data:`api.models.YEARS`)."""
        json_schema = super().datetime_schema(schema)
        if self.mode == "validation":
            json_schema["pattern"] = YEAR_PATTERN
        return json_schema

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> dict[str, Any]:
        """With ``max_digits`` and ``decimal_places`` (amounts of money): fixed-point text only (an exponent's
        digits cannot be bounded by a pattern), a number bounded and in steps of the last place, no sign
        but ``+`` when negative amounts are refused."""
        json_schema = super().decimal_schema(schema)
        digits, places = schema.get("max_digits"), schema.get("decimal_places")
        if self.mode != "validation" or digits is None or places is None or "anyOf" not in json_schema:
            return json_schema
        number, text = json_schema["anyOf"]
        whole = digits - places
        sign = "[+]?" if (schema.get("ge") is not None and schema["ge"] >= 0) else "[+-]?"
        text["pattern"] = (f"^{sign}(?:0*[0-9]{{1,{whole}}}(?:\\.[0-9]{{0,{places}}}0*)?"
                           f"|0*[0-9]{{0,{whole}}}\\.[0-9]{{1,{places}}}0*)$")
        number["maximum"] = float(f"{'9' * whole}.{'9' * places}") if places else float(10 ** whole - 1)
        number["multipleOf"] = float(f"1e-{places}") if places else 1
        return json_schema


@contextmanager
def _decimal_patterns() -> Iterator[None]:
    """FastAPI builds its generator by name from this module; swap ours in while the document is built."""
    original = fastapi_v2.GenerateJsonSchema
    fastapi_v2.GenerateJsonSchema = _Schemas  # type: ignore[misc]
    try:
        yield
    finally:
        fastapi_v2.GenerateJsonSchema = original  # type: ignore[misc]


def _portable(pattern: str) -> str:
    r"""`pattern` with ``\s`` spelled out as the server's engine means it (inside a class or standing alone)."""
    inside = re.sub(r"\[(\^?)([^\]]*)\]", lambda m: f"[{m.group(1)}{m.group(2).replace(chr(92) + 's', _WHITE_SPACE)}]",
                    pattern)
    return inside.replace("\\s", f"[{_WHITE_SPACE}]")


def _walk_patterns(node: Any) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            node["pattern"] = _portable(node["pattern"])
        for value in node.values():
            _walk_patterns(value)
    elif isinstance(node, list):
        for value in node:
            _walk_patterns(value)


def _respond(responses: dict[str, Any], status: str, description: str) -> None:
    entry = responses.setdefault(status, {"description": description})
    entry["content"] = copy.deepcopy(_PROBLEM)
    if status == "401":
        entry.setdefault("headers", {})["WWW-Authenticate"] = {
            "description": 'Bearer realm="convene" (with error="invalid_token" for a token nobody holds)',
            "schema": {"type": "string"}}


def _complete_operation(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    if operation.get("security"):
        _respond(responses, "401", _STANDARD["401"])
    if operation.get("requestBody"):
        _respond(responses, "400", _STANDARD["400"])
    if operation.get("requestBody") or operation.get("parameters"):
        _respond(responses, "422", _STANDARD["422"])
    for status, entry in responses.items():
        if status[:1] in ("4", "5"):
            entry["content"] = copy.deepcopy(_PROBLEM)  # replaces FastAPI's application/json HTTPValidationError


def _links(doc: dict[str, Any]) -> None:
    """``POST /events`` → every operation on one event, its ``event_id`` from the started event's body."""
    start = doc["paths"].get("/events", {}).get("post")
    if start is None:
        return
    links: dict[str, Any] = {}
    for path, item in doc["paths"].items():
        if not path.startswith("/events/{event_id}") and not path.startswith("/ui/api/events/{event_id}"):
            continue
        for method in _METHODS:
            operation = item.get(method)
            if operation is not None and operation.get("operationId"):
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {"event_id": "$response.body#/event/id"},
                    "description": f"{method.upper()} {path} on the event just started.",
                }
    for status in ("200", "201"):
        if status in start.get("responses", {}):
            start["responses"][status]["links"] = links


def exact(doc: dict[str, Any], kinds: list[str]) -> dict[str, Any]:
    """`doc` (FastAPI's document) completed as the module docstring says, the event kinds this server starts
    being `kinds`; returns it."""
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    new_event = components.get("NewEvent", {}).get("properties", {})
    if "kind" in new_event:
        new_event["kind"]["enum"] = sorted(kinds)
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for item in doc.get("paths", {}).values():
        for method in _METHODS:
            if method in item:
                _complete_operation(item[method])
    _links(doc)
    _walk_patterns(doc)
    doc["x-refusals"] = sorted(f"/problems/{slug}" for slug in REFUSALS)
    return doc


def install(app: FastAPI, kinds: list[str]) -> None:
    """Serve the completed document at ``/openapi.json`` (built once, on first ask); `kinds`: the loaded ones."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            with _decimal_patterns():
                doc = FastAPI.openapi(app)
            app.openapi_schema = exact(doc, kinds)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
