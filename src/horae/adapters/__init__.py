"""Adapters for infrastructure ports: clock, secret box, password hashing, rate limiting."""
