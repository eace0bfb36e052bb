"""The one process supervisor of a local deployment (``make run``: ``infra/run.sh``; ``make
cluster``: ``infra/lib/cluster-pantau.sh``): start named processes detached, stop them by PID.

    python -m pantau_tools.supervise --pids DIR --logs DIR start NAME [ENV...] -- COMMAND...
    python -m pantau_tools.supervise --pids DIR [--grace SECONDS] stop NAME...
    python -m pantau_tools.supervise --pids DIR status NAME...

Contract:

* ``start`` is idempotent: a NAME whose process is alive is left alone ("already running").
  Otherwise COMMAND runs in a session of its own (a terminal's Ctrl-C does not reach it), stdin
  from /dev/null, stdout and stderr appended to ``LOGS/NAME.log`` (after a header line naming the
  start), its PID written to ``PIDS/NAME.pid`` and its command line to ``PIDS/NAME.cmd``. ENV
  are env(1) arguments applied to this process's environment: ``-u NAME`` removes a variable,
  ``NAME=VALUE`` sets one (each process's own identity and only the URLs it uses, as the
  scripts' ``process_env`` computes them).
* A NAME is *alive* when its PID file names a live process that is still the one started: on
  Linux its ``/proc/PID/cmdline`` equals the recorded command (a PID reused by another program
  is not ours and is never signalled).
* ``stop`` stops the NAMEs in the order given: SIGTERM, up to ``--grace`` seconds (default 10)
  for a graceful exit, then SIGKILL; the PID files are removed either way.
* ``status`` prints ``NAME: running (pid N)`` or ``NAME: stopped`` per NAME; it exits 3 if any
  is stopped.

Why a module and not honcho or supervisord: both scripts need per-process environments that
*remove* variables (a process must not even see another's database URL), processes that outlive
the command that started them (``make run`` returns, ``make stop`` comes later), and stop by PID
with a grace period; honcho runs in the foreground until Ctrl-C and supervisord adds a daemon
and a config format of its own. These hundred lines of stdlib do exactly that, once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

STOPPED_EXIT = 3


def apply_env(base: Mapping[str, str], changes: Sequence[str]) -> dict[str, str]:
    """``base`` changed by env(1) arguments: ``-u NAME`` unsets, ``NAME=VALUE`` sets."""
    env, args = dict(base), list(changes)
    while args:
        arg = args.pop(0)
        if arg == "-u":
            env.pop(args.pop(0), None)
        elif "=" in arg:
            name, _, value = arg.partition("=")
            env[name] = value
        else:
            raise ValueError(f"not an env(1) argument: {arg!r}")
    return env


class Supervisor:
    """Processes by name, with PID files in ``pids`` and logs in ``logs``."""

    def __init__(self, pids: Path, logs: Path | None = None) -> None:
        self.pids, self.logs = pids, logs or pids

    def pid(self, name: str) -> int | None:
        """The PID of ``name`` if that process is alive and still ours, else None."""
        try:
            pid = int((self.pids / f"{name}.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return None  # someone else's process took the PID
        return pid if self._same_command(name, pid) else None

    def _same_command(self, name: str, pid: int) -> bool:
        proc = Path(f"/proc/{pid}/cmdline")
        if not proc.exists():
            return True  # no /proc: a live PID is the best we know
        try:
            recorded = json.loads((self.pids / f"{name}.cmd").read_text())
        except (OSError, ValueError):
            return True  # started before commands were recorded
        try:
            running = proc.read_bytes().split(b"\0")[:-1]
        except OSError:
            return False
        return bool([part.decode(errors="replace") for part in running] == recorded)

    def start(self, name: str, command: Sequence[str], env_changes: Sequence[str] = (),
              base_env: Mapping[str, str] | None = None) -> tuple[int, bool]:
        """Start ``command`` as ``name`` unless it is alive; (pid, started now)."""
        running = self.pid(name)
        if running is not None:
            return running, False
        env = apply_env(os.environ if base_env is None else base_env, env_changes)
        self.pids.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{name}.log", "ab") as log:
            log.write(f"\n===== {datetime.now().astimezone().isoformat(timespec='seconds')}: "
                      f"starting {name} =====\n".encode())
            log.flush()
            # the operator's own command line (the scripts' process list): nothing untrusted
            process = subprocess.Popen(  # noqa: S603
                list(command), env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        (self.pids / f"{name}.cmd").write_text(json.dumps(list(command)))
        (self.pids / f"{name}.pid").write_text(f"{process.pid}\n")
        self._wait_exec(name, process.pid)
        return process.pid, True

    def _wait_exec(self, name: str, pid: int, seconds: float = 5.0) -> None:
        """Return once ``pid`` shows its new command (or has exited, or ``seconds`` passed).
        ``Popen`` returns when the exec has begun, but Linux fills ``/proc/PID/cmdline`` a
        moment later; a ``status``, ``stop`` or second ``start`` in that moment took the new
        process for a stranger (a loaded CI run caught ``status`` saying "stopped")."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._same_command(name, pid):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            if _is_zombie(pid):
                return
            time.sleep(0.005)

    def stop(self, name: str, grace: float = 10.0) -> int | None:
        """SIGTERM, ``grace`` seconds, then SIGKILL; the PID it stopped (None: not running)."""
        pid = self.pid(name)
        if pid is not None:
            _signal(pid, signal.SIGTERM)
            if not _wait_gone(pid, grace):
                _signal(pid, signal.SIGKILL)
                _wait_gone(pid, 5.0)
        for suffix in (".pid", ".cmd"):
            (self.pids / f"{name}{suffix}").unlink(missing_ok=True)
        return pid


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            # our own child (tests start from this process) must be reaped, not left a zombie
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if _is_zombie(pid):
            return True
        time.sleep(0.05)
    return False


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def _split_start(rest: list[str]) -> tuple[str, list[str], list[str]]:
    if "--" not in rest or rest.index("--") < 1:
        raise SystemExit("usage: start NAME [ENV...] -- COMMAND...")
    cut = rest.index("--")
    return rest[0], rest[1:cut], rest[cut + 1:]


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pantau_tools.supervise", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pids", type=Path, required=True)
    parser.add_argument("--logs", type=Path)
    parser.add_argument("--grace", type=float, default=10.0)
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    supervisor = Supervisor(args.pids, args.logs)
    if args.action == "start":
        name, env_changes, command = _split_start(args.rest)
        pid, started = supervisor.start(name, command, env_changes)
        _say(f"{name} started (pid {pid}, log {supervisor.logs / (name + '.log')})" if started
             else f"{name} already running (pid {pid})")
        return 0
    if args.action == "stop":
        for name in args.rest:
            stopped = supervisor.stop(name, args.grace)
            if stopped is not None:
                _say(f"{name} stopped (pid {stopped})")
        return 0
    code = 0
    for name in args.rest:
        alive = supervisor.pid(name)
        _say(f"{name}: running (pid {alive})" if alive else f"{name}: stopped")
        code = code if alive else STOPPED_EXIT
    return code


if __name__ == "__main__":
    raise SystemExit(main())
