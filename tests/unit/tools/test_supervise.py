"""``pantau_tools.supervise``: start detached with an environment of its own, status, stop by
PID with a grace period, idempotent start; a reused PID is never taken for ours."""

from __future__ import annotations

import signal
import sys
import textwrap
from pathlib import Path

from pantau_tools.supervise import STOPPED_EXIT, Supervisor, apply_env, main
from tests.conftest import wait_for

SLEEPER = [sys.executable, "-c", "import os, time; print('env', os.environ.get('WHO'), "
           "os.environ.get('SECRET'), flush=True); time.sleep(600)"]
STUBBORN = [sys.executable, "-c", textwrap.dedent("""
    import signal, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print('ready', flush=True)
    time.sleep(600)
""")]


def test_env_arguments_unset_and_set() -> None:
    assert apply_env({"A": "1", "B": "2"}, ["-u", "A", "C=3", "B=x=y"]) == {"B": "x=y", "C": "3"}


def test_start_status_stop_two_processes(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path / "pids", tmp_path / "logs")
    base = {"SECRET": "the other's database", "PATH": "/usr/bin"}
    first, started = supervisor.start("one", SLEEPER, ["-u", "SECRET", "WHO=one"], base)
    second, _ = supervisor.start("two", SLEEPER, ["WHO=two"], base)
    assert started and first != second
    # a child may still be between fork and exec (its /proc cmdline the parent's) for a moment
    wait_for(lambda: supervisor.pid("one") == first and supervisor.pid("two") == second,
             message="both processes recognised as ours")
    wait_for(lambda: "env one None" in (tmp_path / "logs" / "one.log").read_text())
    wait_for(lambda: "env two the other's database" in (tmp_path / "logs" / "two.log").read_text())
    again, started_again = supervisor.start("one", SLEEPER, ["WHO=one"], base)
    assert (again, started_again) == (first, False)  # idempotent
    assert supervisor.stop("one") == first
    assert supervisor.pid("one") is None and supervisor.pid("two") == second
    assert not (tmp_path / "pids" / "one.pid").exists()
    assert supervisor.stop("two") == second and supervisor.stop("two") is None


def test_stop_kills_after_the_grace_period(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    pid, _ = supervisor.start("stubborn", STUBBORN)
    wait_for(lambda: "ready" in (tmp_path / "stubborn.log").read_text())
    assert supervisor.stop("stubborn", grace=0.3) == pid
    assert supervisor.pid("stubborn") is None


def test_a_reused_pid_is_not_ours(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    pid, _ = supervisor.start("one", SLEEPER)
    (tmp_path / "one.cmd").write_text('["some", "other", "program"]')
    assert supervisor.pid("one") is None  # never signalled as ours
    assert supervisor.stop("one") is None
    import os
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def test_cli_status_exits_3_when_something_is_stopped(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pids = str(tmp_path)
    assert main(["--pids", pids, "start", "one", "WHO=cli", "--", *SLEEPER]) == 0
    assert main(["--pids", pids, "status", "one", "two"]) == STOPPED_EXIT
    out = capsys.readouterr().out
    assert "one started (pid" in out and "one: running (pid" in out and "two: stopped" in out
    assert main(["--pids", pids, "stop", "one"]) == 0
    assert main(["--pids", pids, "status", "one"]) == STOPPED_EXIT

