"""Real processes for the job tests and the fault bench: a private redis-server on its own
loopback port (killed and restarted at will, never the shared one), and the app's ``worker``
and ``scheduler`` commands run as subprocesses."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], Any], timeout: float, every: float = 0.2, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class PrivateRedis:
    """A redis-server of this test alone, with an append-only file (as production runs it),
    so a kill and restart keeps what it held."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        conn = redis.Redis(port=self.port, socket_connect_timeout=0.5)

        def up() -> bool:
            try:
                return bool(conn.ping())
            except redis.exceptions.RedisError:
                return False

        wait_for(up, 10, what="redis-server")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        self.kill()


class AppProcess:
    """``python -m flask --app tests.procapp:create <command>``: the app's own CLI command in
    a process of its own."""

    def __init__(self, config: dict[str, Any], args: list[str], log_path: Path,
                 factory: str = "tests.procapp:create") -> None:
        self.config = config
        self.factory = factory
        self.args = args
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> "AppProcess":
        env = {**os.environ, "OMS_TEST_APP_CONFIG": json.dumps(self.config), "PYTHONPATH": str(ROOT)}
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", self.factory, *self.args],
                                     cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the process and its children (RQ's scheduler runs in a child process)."""
        if self.proc is None:
            return
        if self.alive():
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # children left behind
        except ProcessLookupError:
            pass
        if getattr(self, "_log", None):
            self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]
