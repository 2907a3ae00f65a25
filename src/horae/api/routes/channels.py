"""`/v1/channels`: push notification channels (create, list, close), and beyond Cronofy the delivery
log of a channel and redelivery of one notification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from horae.api import body, openapi
from horae.api.auth import AccountAccess, container
from horae.api.schemas.channels import (
    ChannelList,
    CreateChannelRequest,
    CreatedChannel,
    DeliveryLogResponse,
    channel_out,
    channel_state,
    delivery_info,
)
from horae.services.push import DEFAULT_LOG_LIMIT, MAX_LOG_LIMIT, PERMISSION

router = APIRouter(tags=["Channels"])


def _json_body(model: type[BaseModel]) -> dict[str, Any]:
    """The body as JSON only: `filters` is an object, which a form cannot carry. (A form with just
    `callback_url` is still accepted, as everywhere.)"""
    documented = body.openapi_body(model)
    documented["requestBody"]["content"].pop("application/x-www-form-urlencoded")
    return documented


@router.post(
    "/v1/channels",
    response_model=CreatedChannel,
    response_model_exclude_none=True,
    responses=openapi.errors(401, 403, 422, 429),
    openapi_extra={**_json_body(CreateChannelRequest), **openapi.account_token(PERMISSION)},
    summary="Create a push notification channel; a `verification` notification follows",
)
async def create_channel(request: Request, ctx: AccountAccess) -> CreatedChannel:
    req = await body.parse(request, CreateChannelRequest)
    filters = req.filters
    channel = await run_in_threadpool(
        container(request).push.create_channel,
        ctx,
        req.callback_url,
        filters.calendar_ids if filters else None,
        filters.only_managed if filters else None,
    )
    return CreatedChannel(channel=channel_out(channel))


@router.get(
    "/v1/channels",
    response_model=ChannelList,
    response_model_exclude_none=True,
    responses=openapi.errors(401, 403, 422, 429),
    openapi_extra=openapi.account_token(PERMISSION),
    summary="The calling application's channels on this account",
)
async def list_channels(
    request: Request,
    ctx: AccountAccess,
    include_closed: Annotated[
        bool, Query(description="Also list closed channels, with `closed_at` and `close_reason` (Horae only)")
    ] = False,
) -> ChannelList:
    channels = await run_in_threadpool(container(request).push.list_channels, ctx, include_closed)
    return ChannelList(channels=[channel_out(c) for c in channels])


@router.delete(
    "/v1/channels/{channel_id}",
    status_code=202,
    responses={**openapi.empty(202, "Accepted; no more notifications are sent"), **openapi.errors(401, 403, 404, 429)},
    openapi_extra=openapi.account_token(PERMISSION),
    summary="Close a channel",
)
async def close_channel(request: Request, channel_id: str, ctx: AccountAccess) -> Response:
    await run_in_threadpool(container(request).push.close_channel, ctx, channel_id)
    return Response(status_code=202)


@router.get(
    "/v1/channels/{channel_id}/deliveries",
    response_model=DeliveryLogResponse,
    responses=openapi.errors(401, 403, 404, 422, 429),
    openapi_extra=openapi.account_token(PERMISSION),
    summary="The channel's state and its most recent notifications with every attempt (Horae only)",
)
async def delivery_log(
    request: Request,
    channel_id: str,
    ctx: AccountAccess,
    limit: Annotated[int, Query(ge=1, le=MAX_LOG_LIMIT, description="How many deliveries, newest first")] = (
        DEFAULT_LOG_LIMIT
    ),
) -> DeliveryLogResponse:
    log = await run_in_threadpool(container(request).push.delivery_log, ctx, channel_id, limit)
    return DeliveryLogResponse(
        channel=channel_state(log.channel),
        deliveries=[delivery_info(delivery, attempts) for delivery, attempts in log.deliveries],
    )


@router.post(
    "/v1/channels/{channel_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    responses={
        **openapi.empty(202, "Accepted; the notification is sent again with the same body"),
        **openapi.errors(401, 403, 404, 422, 429),
    },
    openapi_extra=openapi.account_token(PERMISSION),
    summary="Send one notification again (Horae only); 422 when the channel is closed",
)
async def redeliver(request: Request, channel_id: str, delivery_id: str, ctx: AccountAccess) -> Response:
    await run_in_threadpool(container(request).push.redeliver, ctx, channel_id, delivery_id)
    return Response(status_code=202)
