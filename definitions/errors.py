"""Errors raised while reading a definition file."""

from __future__ import annotations

from pathlib import Path


class DefinitionError(Exception):
    """A definition file could not be used.

    One error per file, naming the file, each path inside it and what is wrong,
    so that a person can fix the YAML without reading a traceback.

    Attributes:
        source: the file (or ``<string>``) the definition came from.
        problems: ``(path, message)`` pairs; ``path`` is dotted (``stages.1.gates.0.approval``).
    """

    def __init__(self, source: str | Path, problems: list[tuple[str, str]]) -> None:
        self.source = str(source)
        self.problems = problems
        lines = [f"{self.source}: invalid definition"]
        lines += [f"  at {path or '(top)'}: {message}" for path, message in problems]
        super().__init__("\n".join(lines))


class UnknownKind(KeyError):
    """No definition is loaded for that event kind."""

    def __init__(self, kind: str, known: list[str]) -> None:
        self.kind = kind
        self.known = known
        super().__init__(f"unknown event kind {kind!r}; known kinds: {', '.join(known) or 'none'}")

    def __str__(self) -> str:  # KeyError quotes its argument; we want the sentence.
        return str(self.args[0])
