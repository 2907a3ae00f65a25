"""Routes for channels (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Channels"])
