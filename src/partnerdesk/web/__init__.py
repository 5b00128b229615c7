"""The web portal (server-rendered, works without JavaScript)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse


def install_portal(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/docs")
