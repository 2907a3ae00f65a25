"""A real Radicale CalDAV server for the tests, run as a separate process (it is GPL: never imported here)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

USERS = {"alice": "alicepw", "bob": "bobpw"}


@dataclass(frozen=True)
class Radicale:
    """Where the server listens and who may log in (user -> password)."""

    url: str
    users: dict[str, str]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radicale]:
    root = tmp_path_factory.mktemp("radicale")
    port = _free_port()
    (root / "users").write_text("".join(f"{user}:{password}\n" for user, password in USERS.items()))
    (root / "config").write_text(
        f"""[server]
hosts = 127.0.0.1:{port}
[auth]
type = htpasswd
htpasswd_filename = {root / "users"}
htpasswd_encryption = plain
# Radicale waits a second after each failed login by default; the wrong-password test needn't.
delay = 0
[rights]
type = owner_only
[storage]
filesystem_folder = {root / "collections"}
[web]
type = none
[logging]
level = warning
"""
    )
    log = (root / "radicale.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(root / "config")], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_for_port(port, process, root / "radicale.log")
        yield Radicale(url=f"http://127.0.0.1:{port}", users=dict(USERS))
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log_path: object) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"radicale exited with {process.returncode}; see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"radicale did not listen on port {port} within 15 s; see {log_path}")
