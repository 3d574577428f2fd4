"""One router per resource: events, definitions, health."""
