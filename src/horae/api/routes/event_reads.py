"""Routes for event reads (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Event_reads"])
