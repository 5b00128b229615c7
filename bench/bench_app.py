"""The app the benchmarks serve: `partnerdesk.app.serve_app()` with the baselines of `bench/baselines.py`.

    uvicorn --factory bench.bench_app:serve_bench_app     (from the repository root)

The baseline routes come first of all, so the figures they give pay the least routing (FastAPI tries
routes in order). Their table is created in the served database when missing.
"""

from __future__ import annotations

from fastapi import FastAPI

from bench import baselines
from partnerdesk.app import serve_app


def include_first(app: FastAPI, router) -> None:
    """Includes `router` in `app` ahead of every route already there."""
    routes = app.router.routes
    before = len(routes)
    app.include_router(router)
    added = routes[before:]
    del routes[before:]
    routes[:0] = added


def serve_bench_app() -> FastAPI:
    app = serve_app()
    baselines.create_tables(app.state.desk.settings.resolved_database_url)
    include_first(app, baselines.router)
    return app
