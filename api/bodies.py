"""Request bodies of acts, derived from the act classes so that nothing is retyped.

:func:`act_body` makes a route's body from an act's model (its fields, constraints and descriptions, less
what the server fills and what the path names); :func:`act_from_body` builds the act back from it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from workflows.messages import Act, Actor

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


def act_body(model: type[Act], *, path: Iterable[str] = (), flatten: str | None = None,
             optional: Iterable[str] = (), exclude: Iterable[str] = (), name: str | None = None,
             **fields: Any) -> type[ActIn]:
    """The request body of `model`'s route, derived from the act's own fields.

    Args:
        path: act fields the route's path gives (left out of the body).
        flatten: an act field holding a model whose fields the body takes at its top level.
        optional: act fields the body may leave out (the route makes them up from the key).
        exclude: act fields the API does not take.
        fields: fields whose API form differs (``name=(type, Field(...))``), e.g. stricter bounds.

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
            defs |= {n: (i.annotation, copy.copy(i)) for n, i in nested.model_fields.items()}
        elif fname in optional:
            made = copy.copy(info)
            made.default = None
            defs[fname] = (info.annotation | None, made)
        else:
            defs[fname] = (info.annotation, copy.copy(info))
    defs |= fields
    return create_model(name or f"{model.__name__}In", __base__=ActIn, __doc__=model.__doc__, **defs)


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


