"""The sandbox's aiohttp application: metadata, Entra ID, Graph, ARM and the admin API
on one HTTPS listener, with fault injection and the request log around every call."""

from __future__ import annotations

from aiohttp import web

from acr_sandbox import admin, entra, graph
from acr_sandbox.arm import metadata
from acr_sandbox.arm.entry import arm_entry
from acr_sandbox.context import SANDBOX_KEY, Sandbox
from acr_sandbox.middleware import observe


def build_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(middlewares=[observe], client_max_size=4 * 1024 * 1024)
    app[SANDBOX_KEY] = sandbox
    app.router.add_get("/metadata/endpoints", metadata.endpoints)
    admin.add_routes(app)
    graph.add_routes(app)
    for prefix in ("/subscriptions", "/providers"):
        app.router.add_route("*", prefix, arm_entry)
        app.router.add_route("*", prefix + "/{tail:.*}", arm_entry)
    entra.add_routes(app)
    return app
