"""`POST /v1/element_tokens`: a token with which Cronofy's UI Elements, in a page on one origin, call the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from horae.api import body, openapi
from horae.api.auth import ApplicationKey, container
from horae.services.element_tokens import MAX_ORIGIN, MAX_SUBS, PERMISSIONS, VERSION

router = APIRouter(tags=["UI Elements"])


class ElementTokenRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str | int = Field(description=f'"{VERSION}"')
    permissions: list[str] = Field(
        min_length=1, max_length=len(PERMISSIONS), description=f"Some of {', '.join(PERMISSIONS)}"
    )
    subs: list[str] = Field(
        default_factory=list,
        max_length=MAX_SUBS,
        description="Accounts of this application the elements act for (one for Agenda, Calendar Sync and "
        "Availability Rules; every participant for Slot Picker and Availability Viewer)",
    )
    origin: str = Field(
        min_length=1, max_length=MAX_ORIGIN, description="The origin of the page embedding the elements (no path)"
    )


class ElementToken(BaseModel):
    permissions: list[str]
    origin: str
    token: str = Field(description="URL-safe: it travels unencoded in the `et` query parameter")
    expires_in: int = Field(description="Seconds")


class ElementTokenResponse(BaseModel):
    element_token: ElementToken


def _documented_body() -> dict[str, Any]:
    extra = body.openapi_body(ElementTokenRequest)
    for content in extra["requestBody"]["content"].values():
        properties = content["schema"]["properties"]
        properties["version"] = {"anyOf": [{"const": VERSION}, {"const": int(VERSION)}], "description": "1"}
        properties["permissions"]["items"] = {"type": "string", "enum": list(PERMISSIONS)}
        properties["subs"]["items"] = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^\\x00]*$"}
    return extra


@router.post(
    "/v1/element_tokens",
    response_model=ElementTokenResponse,
    responses=openapi.errors(401, 422, 429),
    openapi_extra={**_documented_body(), **openapi.api_key()},
    summary="An element token for UI Elements: these permissions, these accounts, one origin, 18 hours",
)
async def create_element_token(request: Request, application: ApplicationKey) -> ElementTokenResponse:
    req = await body.parse(request, ElementTokenRequest)
    issued = await run_in_threadpool(
        container(request).element_tokens.issue,
        application.id,
        str(req.version),
        req.permissions,
        req.subs,
        req.origin,
    )
    return ElementTokenResponse(
        element_token=ElementToken(
            permissions=list(issued.permissions),
            origin=issued.origin,
            token=issued.token,
            expires_in=issued.expires_in,
        )
    )
