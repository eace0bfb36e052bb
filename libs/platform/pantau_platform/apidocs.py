"""Interactive API docs (Swagger UI) served by Pantau itself: they work without internet and
under a Content-Security-Policy without inline script.

FastAPI's default ``/docs`` page loads Swagger UI from cdn.jsdelivr.net and its favicon from
fastapi.tiangolo.com, and starts it with an inline ``<script>``: on a network without internet
the page is blank, and a CSP without ``'unsafe-inline'`` blocks it anyway. ``install`` serves
the page, Swagger UI 5's files (shipped in the ``fastapi-swagger`` package, whose plugin we do
not use: Swagger UI 4 cannot read FastAPI's OpenAPI 3.1) and a small start-up script from the
app; the page names its OpenAPI document in a ``data-openapi`` attribute.

Usage (the app is built with ``docs_url=None, redoc_url=None``)::

    apidocs.install(app, "/docs")        # page at /docs, files under /docs/assets/

FastAPI/Starlette only (FastAPI processes import it; no nameko).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_swagger
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_swagger.__file__).parent / "resources"  # swagger-ui-bundle.js, .css, icon
START_JS = """\
// Starts Swagger UI on #swagger-ui with the OpenAPI document named in its data-openapi.
(function () {
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: node.getAttribute("data-openapi"), dom_id: "#swagger-ui", deepLinking: true,
    showExtensions: true, showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout"
  });
})();
"""


def page(title: str, openapi_url: str, assets_url: str) -> str:
    """The docs page: no inline script or style, every file from ``assets_url``."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{assets_url}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets_url}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi="{escape(openapi_url)}"></div>
<script src="{assets_url}/swagger-ui-bundle.js"></script>
<script src="{assets_url}/start.js"></script>
</body>
</html>
"""


def install(app: FastAPI, docs_url: str) -> None:
    """Serve the docs page at ``docs_url`` and its files under ``{docs_url}/assets``."""
    assets_url = f"{docs_url.rstrip('/')}/assets"
    html = page(f"{app.title} — API docs", app.openapi_url or "/openapi.json", assets_url)

    @app.get(docs_url, include_in_schema=False)
    async def docs_page() -> HTMLResponse:
        return HTMLResponse(html)

    @app.get(f"{assets_url}/start.js", include_in_schema=False)
    async def start_script() -> Response:
        return Response(START_JS, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=3600"})

    app.mount(assets_url, StaticFiles(directory=ASSETS), name=f"apidocs-{docs_url}")
