"""Enterprise Connect shapes: delegated-access requests (single or batch), the resources list, and requests
for elevated calendar permissions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from horae.services.push_policy import MAX_CALLBACK_URL


class AccessRequestEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str = Field(min_length=1, max_length=320, description="The person's or resource's email address")
    callback_url: str = Field(
        min_length=1, max_length=MAX_CALLBACK_URL, description="Receives the signed outcome; the code's redirect_uri"
    )
    scope: str = Field(min_length=1, max_length=2000, description="Within the service account's delegated_scope")
    state: str | None = Field(None, max_length=2000, description="Returned unaltered in the callback")


class AccessRequest(BaseModel):
    """Either one request's fields, or `service_account_authorizations` with 1 to 50 of them (not both)."""

    model_config = ConfigDict(extra="ignore")

    email: str | None = Field(None, max_length=320)
    callback_url: str | None = Field(None, max_length=MAX_CALLBACK_URL)
    scope: str | None = Field(None, max_length=2000)
    state: str | None = Field(None, max_length=2000, description="Also the default state for a batch's entries")
    service_account_authorizations: list[AccessRequestEntry] | None = Field(None, max_length=50)


class Resource(BaseModel):
    email: str
    name: str


class ResourceList(BaseModel):
    resources: list[Resource]


class PermissionEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    calendar_id: str = Field(min_length=1, max_length=64)
    permission_level: str = Field(min_length=1, max_length=32, description="`unrestricted`, or `sandbox` to give it up")


class PermissionsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    permissions: list[PermissionEntry] = Field(min_length=1, max_length=50)
    redirect_uri: str | None = Field(
        None, max_length=MAX_CALLBACK_URL, description="Where the person goes after deciding on the request's page"
    )


class PermissionsRequestState(BaseModel):
    """`accepted: true` when granted at once; otherwise the `url` where the person decides."""

    accepted: bool | None = None
    url: str | None = None


class PermissionsResponse(BaseModel):
    permissions_request: PermissionsRequestState
