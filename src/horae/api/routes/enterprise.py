"""Enterprise Connect's API: `POST /v1/service_account_authorizations` and `GET /v1/resources` with a service
account's token, and `POST /v1/permissions` with an account's."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from horae.api import body, openapi
from horae.api.auth import AccountAccess, container, public_base_url
from horae.api.schemas.enterprise import (
    AccessRequest,
    PermissionsRequest,
    PermissionsRequestState,
    PermissionsResponse,
    Resource,
    ResourceList,
)
from horae.errors import InvalidRequest
from horae.services.enterprise import AccessEntry
from horae.services.permissions import Wanted

router = APIRouter(tags=["Enterprise Connect"])
_SINGLE = ("email", "callback_url", "scope")


@router.post(
    "/v1/service_account_authorizations",
    status_code=202,
    responses={
        **openapi.empty(202, "Accepted; each outcome is POSTed to its callback_url"),
        **openapi.errors(401, 403, 422, 429),
    },
    openapi_extra={**body.openapi_body(AccessRequest), **openapi.account_token()},
    summary="Ask for delegated access to people or resources of the service account's domain",
)
async def request_access(request: Request, ctx: AccountAccess) -> Response:
    req = await body.parse(request, AccessRequest)
    batch = req.service_account_authorizations
    given = [name for name in _SINGLE if getattr(req, name) is not None]
    if batch is not None and given:
        raise InvalidRequest.single(
            "service_account_authorizations", "errors.invalid", "send one request or a batch, not both"
        )
    if batch is not None:
        entries = [
            AccessEntry(e.email, e.callback_url, e.scope, e.state if e.state is not None else req.state) for e in batch
        ]
    else:
        missing = [name for name in _SINGLE if not getattr(req, name)]
        if missing:
            raise InvalidRequest.single(missing[0], "errors.required", f"{missing[0]} must be specified")
        entries = [AccessEntry(req.email or "", req.callback_url or "", req.scope or "", req.state)]
    await run_in_threadpool(container(request).enterprise.request_access, ctx, entries, batch is not None)
    return Response(status_code=202)


@router.get(
    "/v1/resources",
    response_model=ResourceList,
    responses=openapi.errors(401, 403, 429),
    openapi_extra=openapi.account_token(),
    summary="The rooms and resources the service account may request access to",
)
async def resources(request: Request, ctx: AccountAccess) -> ResourceList:
    found = await run_in_threadpool(container(request).enterprise.resources, ctx)
    return ResourceList(resources=[Resource(**r) for r in found])


@router.post(
    "/v1/permissions",
    status_code=202,
    response_model=PermissionsResponse,
    response_model_exclude_none=True,
    responses=openapi.errors(401, 403, 422, 429),
    openapi_extra={**body.openapi_body(PermissionsRequest), **openapi.account_token()},
    summary="Ask for unrestricted permission on calendars (to change external events)",
)
async def request_permissions(request: Request, ctx: AccountAccess) -> PermissionsResponse:
    req = await body.parse(request, PermissionsRequest)
    wanted = [Wanted(p.calendar_id, p.permission_level) for p in req.permissions]
    asked = await run_in_threadpool(container(request).permissions.request, ctx, wanted, req.redirect_uri)
    if asked.accepted:
        return PermissionsResponse(permissions_request=PermissionsRequestState(accepted=True))
    url = f"{public_base_url(request)}/permissions/{asked.request_id}"
    return PermissionsResponse(permissions_request=PermissionsRequestState(url=url))
