"""Request bodies of acts, derived from the act classes so that nothing is retyped.

:func:`act_body` makes a route's body from an act's model (its fields, constraints and descriptions, less
what the server fills and what the path names); :func:`act_from_body` builds the act back from it.
"""

from __future__ import annotations

import copy
import operator
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import reduce
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, create_model

from workflows.messages import Act, Actor

_RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
                      r"([Zz]|[+-][0-9]{2}:[0-9]{2})")
YEARS = (1970, 2200)
"""The years a date-time may fall in (local to its offset), as the workflow's ``EventTime`` bounds them."""
YEAR_PATTERN = r"^(19[7-9][0-9]|2[01][0-9][0-9]|2200)-"
""":data:`YEARS` as the document publishes them on every date-time a request gives (:mod:`api.contract`)."""


def _rfc3339(value: object) -> object:
    """Only RFC 3339 text, as the document's ``format: date-time`` says (pydantic alone also takes a number
    of seconds, ``0.5``, or a date without a time), in a year of :data:`YEARS`."""
    if isinstance(value, str) and _RFC3339.fullmatch(value) and YEARS[0] <= int(value[:4]) <= YEARS[1]:
        return value
    raise ValueError(f"expected a date-time in RFC 3339 between the years {YEARS[0]} and {YEARS[1]}, "
                     "e.g. 2027-03-01T09:00:00Z")


DateTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
"""A date-time a request gives (query, path or body): RFC 3339 with its offset, in a year of :data:`YEARS`."""

AFTER = "x-after"
"""A body schema's cross-field rule, which JSON Schema cannot say: ``{"end": "start"}`` means ``end`` must be
later than ``start`` (the server refuses the body with 422 otherwise); see :mod:`api.contract`."""


IDENT = r"^[a-z][a-z0-9_]{0,63}$"
"""Ids of roles, gates, tasks, stages and budget categories, as definitions spell them."""


class ActIn(BaseModel):
    """What every act's body may carry besides the act's own fields."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: str | None = Field(default=None, min_length=1, max_length=200,
                            description="Idempotency key; the Idempotency-Key header wins when both are given.")
    reason: str | None = Field(default=None, max_length=2000)
    as_role: str | None = Field(default=None, pattern=IDENT,
                                description="Act as this role (one the caller holds).")


_SERVER_FILLS = ("key", "actor")

_REQUEST_MODELS: dict[type[BaseModel], type[BaseModel]] = {}


def request_type(annotation: Any) -> Any:
    """`annotation` as a request takes it: every date-time in it (nested in optionals, lists and models too) as
    :data:`DateTime`, RFC 3339 text only, as the published document says; anything else unchanged."""
    if annotation in (AwareDatetime, datetime):
        return DateTime
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, UnionType) and args:
        return reduce(operator.or_, [request_type(a) for a in args])
    if origin is list and len(args) == 1:
        return list[request_type(args[0])]  # type: ignore[misc]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in _REQUEST_MODELS:
            changed = {n: (request_type(i.annotation), copy.copy(i)) for n, i in annotation.model_fields.items()
                       if request_type(i.annotation) != i.annotation}
            _REQUEST_MODELS[annotation] = create_model(f"{annotation.__name__}In", __base__=annotation,
                                                       __doc__=annotation.__doc__, **changed) if changed else annotation
        return _REQUEST_MODELS[annotation]
    return annotation


def act_body(model: type[Act], *, path: Iterable[str] = (), flatten: str | None = None,
             optional: Iterable[str] = (), exclude: Iterable[str] = (), name: str | None = None,
             schema_extra: dict[str, Any] | None = None, **fields: Any) -> type[ActIn]:
    """The request body of `model`'s route, derived from the act's own fields.

    Args:
        path: act fields the route's path gives (left out of the body).
        flatten: an act field holding a model whose fields the body takes at its top level.
        optional: act fields the body may leave out (the route makes them up from the key).
        exclude: act fields the API does not take.
        schema_extra: added to the body's JSON Schema (e.g. ``{AFTER: {"new_end": "new_start"}}``).
        fields: fields whose API form differs (``name=(type, Field(...))``), e.g. stricter bounds.

    Date-times become :data:`DateTime` wherever they are (:func:`request_type`).

    Returns:
        a model whose fields are ``key``, ``reason`` and ``as_role`` (:class:`~api.models.ActIn`) and the act's.
    """
    path, optional, exclude = set(path), set(optional), set(exclude)
    defs: dict[str, Any] = {}
    for fname, info in model.model_fields.items():
        if fname in _SERVER_FILLS or fname in path or fname in exclude:
            continue
        if fname == flatten:
            nested = info.annotation
            assert isinstance(nested, type) and issubclass(nested, BaseModel), f"{fname} holds no model"
            defs |= {n: (request_type(i.annotation), copy.copy(i)) for n, i in nested.model_fields.items()}
        elif fname in optional:
            made = copy.copy(info)
            made.default = None
            defs[fname] = (request_type(info.annotation) | None, made)
        else:
            defs[fname] = (request_type(info.annotation), copy.copy(info))
    defs |= fields
    config = ConfigDict(json_schema_extra=schema_extra) if schema_extra else None
    body: type[ActIn] = create_model(name or f"{model.__name__}In", __base__=ActIn, __doc__=model.__doc__,
                                     **({"__config__": config} if config else {}), **defs)
    return body


def act_from_body(model: type[Act], body: BaseModel | None, key: str, actor: Actor,
                  path: dict[str, Any] | None = None, flatten: str | None = None,
                  made_up: dict[str, Callable[[str], Any]] | None = None) -> Act:
    """The act `body` asks for, done by `actor` under `key` (its model's validators run here).

    Raises:
        pydantic.ValidationError: the act's own rules refuse it (answered 422).
    """
    data = {n: getattr(body, n) for n in (body.model_fields_set if body else ()) if n not in ("key", "as_role")}
    if body is not None and "reason" not in data:
        data["reason"] = body.reason
    if flatten:
        nested = model.model_fields[flatten].annotation
        assert isinstance(nested, type) and issubclass(nested, BaseModel)
        data[flatten] = {n: data.pop(n) for n in list(data) if n in nested.model_fields}
    for fname, make in (made_up or {}).items():
        if data.get(fname) is None:
            data[fname] = make(key)
    return model.model_validate({**data, **(path or {}), "key": key, "actor": actor})


