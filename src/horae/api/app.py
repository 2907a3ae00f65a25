"""The app factory: API routes, pages, error mapping, middleware, and the embedded worker's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from horae import __doc__ as horae_doc
from horae.api import errors, openapi
from horae.api.element_cors import ElementCors
from horae.api.middleware import RequestContext
from horae.api.routes import (
    availability,
    batch,
    calendars,
    channels,
    conferencing,
    element_tokens,
    enterprise,
    event_reads,
    event_writes,
    identity,
    managed_availability,
    meta,
    oauth,
    scheduling,
)
from horae.container import Container
from horae.web import booking as booking_pages
from horae.web import conferencing as conferencing_pages
from horae.web import connect, dashboard, mfa_login, pages, password_reset, relink, unit_applications, units
from horae.web import enterprise as enterprise_pages
from horae.web import permissions as permission_pages
from horae.web import profile as profile_pages
from horae.web import security as security_pages
from horae.web.common import mount_static


def create_app(container: Container) -> FastAPI:
    """A ready ASGI app over an assembled container."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if container.settings.embedded_worker:
            container.background.start()
        try:
            yield
        finally:
            container.background.stop()

    app = FastAPI(
        title="Horae",
        version="0.1.0",
        description=(horae_doc or "").strip(),
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.container = container
    errors.install(app)
    openapi.install(app)
    api = [
        oauth,
        identity,
        calendars,
        event_writes,
        event_reads,
        channels,
        batch,
        availability,
        managed_availability,
        meta,
        enterprise,
        conferencing,
        element_tokens,
        scheduling,
    ]
    routers = [module.router for module in api]
    for router in [
        *routers,
        pages.router,
        relink.router,
        connect.router,
        enterprise_pages.router,
        permission_pages.router,
        dashboard.router,
        profile_pages.router,
        security_pages.router,
        mfa_login.router,
        password_reset.router,
        units.router,
        unit_applications.router,
        conferencing_pages.router,
        booking_pages.router,
    ]:
        app.include_router(router)
    mount_static(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=container.session_secret,
        session_cookie="horae_session",
        same_site="lax",
        https_only=container.settings.public_base_url.startswith("https://"),
    )
    app.add_middleware(ElementCors)
    app.add_middleware(RequestContext)
    return app
