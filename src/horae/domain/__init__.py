"""Pure domain: entities, scopes, identifiers and rules; no I/O, no frameworks."""
