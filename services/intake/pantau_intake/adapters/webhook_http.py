"""``WebhookPoster`` over httpx, and ``SigningKeys`` over the credential store.

``HttpxPoster.post_all`` runs at most ``concurrency`` POSTs at once (a thread pool; under the
outcomes process's eventlet monkey-patching these are green threads on patched sockets), each
with ``timeout`` seconds for connect, write and read, and never follows a redirect (a 3xx is
returned as it is: ``domain.webhooks.settle`` makes it dead). In production the target host is
resolved and refused when any address is not public (``domain.webhooks.is_public``) — checked
again at every attempt, since DNS can change after the URL was configured.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx

from pantau_intake.adapters.credential_store import CredentialStore
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.webhooks import Attempt, WebhookError, check_url
from pantau_intake.service.ports import SignedPost


def resolve(host: str) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})


class HttpxPoster:
    def __init__(self, *, timeout: float = 10.0, concurrency: int = 8,
                 production: bool = False) -> None:
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)
        self._pool = ThreadPoolExecutor(max_workers=concurrency,
                                        thread_name_prefix="webhook")
        self._production = production

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self._client.close()

    def post_all(self, posts: Sequence[SignedPost]) -> list[Attempt]:
        return list(self._pool.map(self._post, posts))

    def _post(self, post: SignedPost) -> Attempt:
        if self._production:
            try:
                check_url(post.url, production=True, resolve=resolve)
            except WebhookError as exc:
                return Attempt(error=str(exc))
        try:
            response = self._client.post(post.url, content=post.body, headers=post.headers)
        except httpx.HTTPError as exc:
            host = urlsplit(post.url).hostname
            return Attempt(error=f"{type(exc).__name__} ({host}): {exc}"[:300])
        return Attempt(status=response.status_code,
                       retry_after=_seconds(response.headers.get("retry-after")))


def _seconds(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


class StoreSigningKeys:
    """The department's newest active key (the one it is expected to have deployed)."""

    def __init__(self, store: CredentialStore) -> None:
        self._store = store

    def current(self, department: DepartmentRef) -> tuple[str, str] | None:
        active = [k for k in self._store.list(department) if k.active]
        if not active:
            return None
        key = self._store.active_key(max(active, key=lambda k: k.created_at).key_id)
        return (key.key_id, key.secret) if key is not None else None
