"""Lifecycle definitions: the format, the loader and the shipped event kinds."""

from definitions.errors import DefinitionError, UnknownKind
from definitions.loader import Registry, definition_hash, json_schema, load_definition, parse_definition, shipped
from definitions.schema import CANCELLED, CLOSED, Definition, Stage, Task, Gate, Deadline, LadderStep

__all__ = [
    "CANCELLED",
    "CLOSED",
    "Deadline",
    "Definition",
    "DefinitionError",
    "Gate",
    "LadderStep",
    "Registry",
    "Stage",
    "Task",
    "UnknownKind",
    "definition_hash",
    "json_schema",
    "load_definition",
    "parse_definition",
    "shipped",
]
