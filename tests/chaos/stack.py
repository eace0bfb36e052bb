"""The stack's servers (RabbitMQ, PostgreSQL, Elasticsearch) as the chaos matrix sees them.

A server's process is found through ``infra/stack.sh status <service>`` (its PID, from the pid file
the server writes), signalled by PID together with its descendants (PostgreSQL's backends, the
Erlang helpers), and started again with ``infra/stack.sh up <service>`` — idempotent, returns once
the server is ready. Nothing here is found by name: only the process trees ``stack.sh`` reports.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.conftest import REPO, wait_for

STACK = REPO / "infra" / "stack.sh"
SERVICES = ("rabbitmq", "postgres", "elasticsearch")
_STATUS = re.compile(r"^(\S+)\s+running\s+pid\s+(\d+)\s+(\S+)")


@dataclass(frozen=True)
class Running:
    service: str
    pid: int
    url: str  # what stack.sh describes (its first URL)


def status(service: str) -> Running | None:
    """The running server according to ``stack.sh status``, or None when it is stopped."""
    answer = subprocess.run(["bash", str(STACK), "status", service], capture_output=True,
                            text=True, timeout=60, cwd=REPO)
    for line in answer.stdout.splitlines():
        match = _STATUS.match(line)
        if match and match[1] == service:
            return Running(service, int(match[2]), match[3])
    return None


def up(service: str, timeout: float = 300) -> float:
    """``stack.sh up <service>``: starts it if it is not running, waits until it is ready.
    Returns the seconds it took."""
    started = time.monotonic()
    answer = subprocess.run(["bash", str(STACK), "up", service], capture_output=True, text=True,
                            timeout=timeout, cwd=REPO)
    if answer.returncode != 0:
        raise AssertionError(f"`infra/stack.sh up {service}` failed ({answer.returncode}):\n"
                             f"{(answer.stdout + answer.stderr)[-3000:]}")
    return time.monotonic() - started


def port_of(url: str) -> int | None:
    return urlsplit(url).port


def same_server(service: str, url: str) -> str | None:
    """A problem when the server stack.sh runs for ``service`` is not the one ``url`` points at
    (the harness would signal one server and watch another)."""
    running = status(service)
    if running is None:
        return f"{service} is not running (infra/stack.sh status {service})"
    if port_of(running.url) != port_of(url):
        return (f"{service}: infra/stack.sh runs it at {running.url} but the tests use {url}; "
                f"run with the environment of `infra/stack.sh env` (same PANTAU_STATE_DIR and "
                f"PANTAU_*_PORT)")
    return None


# -- process trees ----------------------------------------------------------------------------

def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ..." — comm may hold spaces and parentheses
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, parents first."""
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    result, todo = [], [pid]
    while todo:
        current = todo.pop(0)
        result.append(current)
        todo.extend(sorted(children.get(current, [])))
    return result


def exists(pid: int) -> bool:
    """True while the kernel still has the process (a zombie too: a PID file check by a
    restarting server would still see it)."""
    return os.path.exists(f"/proc/{pid}")


def send(pids: list[int], sig: signal.Signals) -> list[int]:
    """Signal each PID; returns those that received it."""
    done = []
    for pid in pids:
        try:
            os.kill(pid, sig)
            done.append(pid)
        except ProcessLookupError:
            pass
    return done


def kill_tree(pid: int) -> list[int]:
    """SIGKILL the server and every process it started, at once (a crash: no shutdown runs)."""
    return send(tree(pid), signal.SIGKILL)


def stop_tree(pid: int) -> list[int]:
    """SIGSTOP the server and its descendants (a hung server: sockets stay open, nothing
    answers). The parent first so it forks no new child meanwhile; then the tree is read again."""
    stopped = send([pid], signal.SIGSTOP)
    for _ in range(3):
        more = [p for p in tree(pid) if p not in stopped]
        if not more:
            break
        stopped += send(more, signal.SIGSTOP)
    return stopped


def cont(pids: list[int]) -> None:
    send(list(reversed(pids)), signal.SIGCONT)


def wait_gone(pids: list[int], timeout: float = 60) -> None:
    wait_for(lambda: not any(exists(p) for p in pids), timeout=timeout, interval=0.1,
             message=f"killed processes {pids[:8]} to be gone")
