"""The only place that reads definition files.

YAML is parsed with a safe loader that refuses anchors and aliases (they are
how "billion laughs" YAML bombs multiply a small file into gigabytes) and
files over :data:`MAX_BYTES`, then validated into a frozen
:class:`~definitions.schema.Definition`. Every failure becomes one
:class:`~definitions.errors.DefinitionError` naming the file and each path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from definitions.errors import DefinitionError, UnknownKind
from definitions.schema import Definition, DefinitionProblems

MAX_BYTES = 256 * 1024
"""The largest definition file accepted; the shipped ones are under 20 KiB."""

MAX_DEPTH = 40
"""The deepest nesting accepted (the format needs 6); deeper input is refused before it can exhaust the stack."""

SHIPPED_DIR = Path(__file__).resolve().parent


class _NoAliasLoader(yaml.SafeLoader):
    """A safe loader that refuses anchors/aliases instead of expanding them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise self._refusal(f"nested deeper than {MAX_DEPTH} levels")
            return self._compose_checked(parent, index)
        finally:
            self._depth -= 1

    def _refusal(self, problem: str) -> yaml.constructor.ConstructorError:
        """The error for ``problem`` at the next event's place in the file."""
        mark = self._peek().start_mark  # this pure-Python loader's marks are yaml.error.Mark, never libyaml's
        return yaml.constructor.ConstructorError(None, None, problem, mark if isinstance(mark, yaml.error.Mark) else None)

    def _peek(self) -> yaml.Event:
        """The next parser event, not consumed (PyYAML's ``peek_event``, which its stubs leave unannotated)."""
        event: yaml.Event = yaml.parser.Parser.peek_event(self)
        return event

    def _compose_checked(self, parent: Any, index: Any) -> Any:
        event = self._peek()
        if getattr(event, "anchor", None) is not None and not isinstance(event, yaml.AliasEvent):
            raise self._refusal("anchors and aliases (&name / *name) are not allowed in definitions")
        if self.check_event(yaml.AliasEvent):
            raise self._refusal("anchors and aliases (&name / *name) are not allowed in definitions")
        return super().compose_node(parent, index)


def _pydantic_problems(err: ValidationError) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for e in err.errors(include_url=False):
        ctx_error = (e.get("ctx") or {}).get("error")
        if isinstance(ctx_error, DefinitionProblems):
            problems.extend(ctx_error.problems)
            continue
        path = ".".join(str(p) for p in e["loc"])
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; the JSON Schema lists every key)"
        problems.append((path, msg))
    return problems


def parse_definition(text: str | bytes, source: str | Path = "<string>") -> Definition:
    """Parse and validate one definition from YAML text.

    Raises:
        DefinitionError: the text is too large, not YAML, or not a valid definition.
    """
    size = len(text.encode() if isinstance(text, str) else text)
    return _parse(text, source, size)


def _parse(text: str | bytes, source: str | Path, size: int) -> Definition:
    if size > MAX_BYTES:
        raise DefinitionError(source, [("", f"file is {size:,} bytes; the limit is {MAX_BYTES:,}")])
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except (ValueError, OverflowError) as exc:  # a scalar Python cannot build (a 5000-digit int, month 13)
        raise DefinitionError(source, [("", f"not valid YAML: {exc}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError(source, [(where, f"not valid YAML: {problem}")]) from None
    if not isinstance(data, dict):
        raise DefinitionError(source, [("", f"expected a mapping at the top, got {type(data).__name__}")])
    try:
        return Definition.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(source, _pydantic_problems(exc)) from None
    except DefinitionProblems as exc:
        raise DefinitionError(source, exc.problems) from None


def load_definition(path: str | Path) -> Definition:
    """Read and validate one definition file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)  # never read more than the limit, whatever the file claims
    except OSError as exc:
        raise DefinitionError(path, [("", f"cannot read file: {exc.strerror or exc}")]) from None
    return _parse(raw, path, max(size, len(raw)))


def definition_hash(definition: Definition) -> str:
    """SHA-256 of the definition's canonical JSON: what a running event was started with."""
    canonical = json.dumps(definition.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Registry:
    """The definitions found in one folder, by kind."""

    def __init__(self, definitions: dict[str, Definition]) -> None:
        self._by_kind = dict(sorted(definitions.items()))

    @classmethod
    def from_dir(cls, folder: str | Path = SHIPPED_DIR) -> Registry:
        found: dict[str, Definition] = {}
        for path in sorted(Path(folder).glob("*.yaml")):
            definition = load_definition(path)
            if definition.kind != path.stem:
                raise DefinitionError(path, [("kind", f"kind {definition.kind!r} must match the file name {path.stem!r}")])
            found[definition.kind] = definition
        return cls(found)

    def kinds(self) -> list[str]:
        return list(self._by_kind)

    def get(self, kind: str) -> Definition:
        try:
            return self._by_kind[kind]
        except KeyError:
            raise UnknownKind(kind, self.kinds()) from None

    def __iter__(self) -> Iterator[Definition]:
        return iter(self._by_kind.values())


@cache
def shipped() -> Registry:
    """The definitions shipped in this package (read once per process)."""
    return Registry.from_dir(SHIPPED_DIR)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the definition format, for editors."""
    schema = Definition.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Convene lifecycle definition"
    return schema
