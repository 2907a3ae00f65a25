"""The Cronofy v1 JSON API and OAuth endpoints (FastAPI)."""
