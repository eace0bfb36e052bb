"""Helpers for intake's integration tests: temporary queues on the real broker, dev credentials,
receipt numbers a department owns, a TCP proxy that simulates a server outage."""

from __future__ import annotations

import json
import socket
import threading
from functools import cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pika

from pantau_contracts.catalogue import Catalogue, load_catalogue
from pantau_intake.adapters.dev_credentials import DevDepartment, dev_department
from tests.conftest import random_tag


class TempQueue:
    """An exclusive, auto-deleted queue bound to ``exchange`` with ``routing_key``.

    Lets a test observe what was published without consuming from the shared queues.
    """

    def __init__(self, amqp_url: str, exchange: str, routing_key: str) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.name = self.channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        self.channel.queue_bind(self.name, exchange, routing_key)
        self.messages: list[tuple[Any, Any, bytes]] = []

    def drain(self) -> list[tuple[Any, Any, bytes]]:
        while True:
            method, properties, body = self.channel.basic_get(self.name, auto_ack=True)
            if method is None:
                return self.messages
            self.messages.append((method, properties, body))

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _m, _p, body in self.drain()]

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001 - already closed
            pass


def dev(department: str) -> DevDepartment:
    return dev_department(department)


@cache
def _catalogue() -> Catalogue:
    return load_catalogue()


def receipt(department: str = "kota-bandung/dpmptsp", tag: str = "IT") -> str:
    """A fresh receipt number ``department`` owns: its first catalogue prefix, ``tag``, a
    random part (e.g. ``BDG-PBG-IT-1A2B3C4D5E``)."""
    jurisdiction, code = department.strip("/").split("/")
    found = _catalogue().department(jurisdiction, code)
    assert found is not None, f"{department} is not in the catalogue"
    return f"{found.receipt_prefixes[0]}{tag}-{random_tag()}"


def department_url(amqp_url: str, department: str) -> str:
    """The broker URL logged in as the department's own (dev) AMQP user."""
    creds = dev(department)
    parts = urlsplit(amqp_url)
    user = creds.department.amqp_user
    return urlunsplit((parts.scheme, f"{user}:{creds.amqp_password}@{parts.hostname}:"
                       f"{parts.port or 5672}", parts.path, parts.query, ""))


class OutageProxy:
    """Forwards a local port to a server (the broker, PostgreSQL) until ``outage()``, which also
    cuts every open connection; ``restore()`` listens again. ``hold_replies()`` keeps what the
    server sends (a broker's confirms) from reaching the clients until ``release_replies()``
    (or an outage, which drops it)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._replies = threading.Event()
        self._replies.set()
        self.restore()

    def hold_replies(self) -> None:
        self._replies.clear()

    def release_replies(self) -> None:
        self._replies.set()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def outage(self) -> None:
        with self._lock:
            if self._listener is not None:
                try:  # wakes the blocked accept(); close() alone would leave it listening
                    self._listener.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self._listener.close()
                self._listener = None
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()
        self._replies.set()  # held replies now meet closed sockets: they are dropped

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            for a, b, gate in ((client, upstream, None), (upstream, client, self._replies)):
                threading.Thread(target=self._pipe, args=(a, b, gate), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket,
              gate: threading.Event | None = None) -> None:
        try:
            while data := source.recv(65536):
                if gate is not None:
                    gate.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
