"""Security headers on every portal response, and no ``Location`` that leaves the site.

``SecurityHeaders`` is plain ASGI (it never buffers, so server-sent events stream through):

* ``Content-Security-Policy`` allows scripts, styles, fonts, images and fetches from the portal
  itself only — no inline script, no inline style (the pages' JavaScript is in ``static/``, the
  charts' bar widths are CSS classes), no framing (``frame-ancestors 'none'``, and
  ``X-Frame-Options: DENY`` for older browsers), no plugins, no ``<base>``;
* ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: strict-origin-when-cross-origin``,
  ``Cross-Origin-Opener-Policy: same-origin``;
* ``Strict-Transport-Security`` only when the public base URL is https (on plain http a browser
  ignores it, and in development it would pin 127.0.0.1 to https);
* a ``Location`` header is rewritten onto the configured public base URL: Starlette's
  trailing-slash redirect builds it from the ``Host`` header, and a path like
  ``//evil.example/x`` would otherwise be a protocol-relative redirect off the site.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pantau_publishing.portal.deps import local_path

CSP = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "font-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'none'",
    "form-action 'self'", "frame-ancestors 'none'"))
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(base_url: str) -> dict[str, str]:
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "strict-origin-when-cross-origin",
               "X-Frame-Options": "DENY", "Cross-Origin-Opener-Policy": "same-origin"}
    if base_url.startswith("https://"):
        headers["Strict-Transport-Security"] = HSTS
    return headers


def safe_location(location: str, base_url: str) -> str:
    """A redirect target on this site: relative paths stay relative (one leading slash);
    anything absolute or protocol-relative is moved onto ``base_url``."""
    if location.startswith(base_url + "/") or location == base_url:
        return location
    parts = urlsplit(location.replace("\\", "/"))
    if not parts.scheme and not parts.netloc and location.startswith("/") \
            and not location.startswith("//"):
        return location
    path = local_path(parts.path if parts.scheme or parts.netloc else location.split("?")[0])
    query = f"?{parts.query}" if parts.query else ""
    return f"{base_url}{path}{query}"


class SecurityHeaders:
    """ASGI middleware adding ``security_headers`` and fixing ``Location``."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        self.headers = security_headers(self.base_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if "location" in headers:
                    headers["location"] = safe_location(headers["location"], self.base_url)
            await send(message)

        await self.app(scope, receive, send_with_headers)
