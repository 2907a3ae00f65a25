"""Error bodies: Cronofy's 422 shape, the RFC 6749 shape, and the one used for other statuses."""

from __future__ import annotations

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    key: str
    description: str


class ValidationErrors(BaseModel):
    """`{"errors": {"field": [{"key": ..., "description": ...}]}}`, as Cronofy answers 422."""

    errors: dict[str, list[ErrorDetail]]


class OAuthErrorBody(BaseModel):
    """RFC 6749 §5.2 error, used by the token endpoints."""

    error: str
    error_description: str = ""


class ErrorBody(BaseModel):
    """Body of 401, 403, 404, 423 and 429 answers (Cronofy leaves them unspecified)."""

    error: str
    error_description: str = ""
