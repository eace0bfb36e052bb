"""A real HTTP receiver for webhook tests: a threaded ``http.server`` on a loopback port that
answers from a script (e.g. 500, 500, then 200) and keeps every request it got (path with
query, headers, body, the status it answered), so a test can verify signatures and order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    target: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    url: str
    script: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        """The next scripted status (the last one repeats)."""
        with self.lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def answered(self, status: int) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.status == status]


@contextmanager
def webhook_receiver(script: list[int], path: str = "/hooks/pantau?via=test") -> Iterator[
        Receiver]:
    receiver: Receiver | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            assert receiver is not None
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.answer()
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body,
                                                  status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}{path}", list(script))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
