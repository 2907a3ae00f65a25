"""Token endpoint shapes: the requests (JSON or form) and Cronofy's token response."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Loose(BaseModel):
    # Unknown fields are tolerated, as Cronofy clients send extras.
    model_config = ConfigDict(extra="ignore")


class TokenRequest(_Loose):
    grant_type: str = ""
    client_id: str = ""
    client_secret: str = ""
    code: str = ""
    redirect_uri: str = ""
    refresh_token: str = ""


class RevokeRequest(_Loose):
    client_id: str = ""
    client_secret: str = ""
    token: str = ""
    refresh_token: str = ""  # the Node SDK's name for it
    sub: str = ""


class LinkingProfile(BaseModel):
    provider_name: str
    profile_id: str
    profile_name: str


class TokenResponse(BaseModel):
    token_type: str = "bearer"
    access_token: str
    expires_in: int
    refresh_token: str
    scope: str
    account_id: str | None = Field(None, description="Account tokens (acc_, res_, apc_)")
    service_account_id: str | None = Field(None, description="Service-account tokens (Enterprise Connect)")
    sub: str
    linking_profile: LinkingProfile | None = None
