"""Horae: a self-hostable calendar and scheduling API server, wire-compatible with Cronofy API v1."""
