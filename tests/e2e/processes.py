"""Real Horae processes for end-to-end tests: `horae serve` / `horae worker` on free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

HORAE = [sys.executable, "-m", "horae.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a child process: test-cheap password hashing, console logs, this data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HORAE_")}
    env.update(
        {
            "HORAE_DATA_DIR": str(data_dir),
            "HORAE_PASSWORD_TIME_COST": "1",
            "HORAE_PASSWORD_MEMORY_COST": "8",
            "HORAE_LOG_FORMAT": "json",
            "HORAE_JOB_POLL_SECONDS": "0.5",
            "HORAE_CALLBACKS_LOOPBACK_ONLY": "true",
            **extra,
        }
    )
    return env


class HoraeProcess:
    """One child process running a `horae` subcommand, with its output kept in a log file."""

    def __init__(self, args: list[str], env: Mapping[str, str], log_path: Path, port: int | None = None) -> None:
        self.args = args
        self.env = dict(env)
        self.log_path = log_path
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        assert self.port is not None
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> HoraeProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([*HORAE, *self.args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        if self.port is not None:
            self._wait_healthy(timeout)
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"horae {self.args} exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"horae {self.args} did not become healthy:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait, as an operator would."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def serve(data_dir: Path, log_dir: Path, name: str = "serve", **env: str) -> HoraeProcess:
    """A started `horae serve` on a free port."""
    port = free_port()
    proc = HoraeProcess(["serve", "--port", str(port)], base_env(data_dir, **env), log_dir / f"{name}.log", port)
    return proc.start()
