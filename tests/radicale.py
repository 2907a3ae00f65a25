"""A real Radicale CalDAV server for the tests, run as a separate process (it is GPL: never imported here).

One server per test process, started on first use (the `radicale` fixture, or `running_radicale(config)`
from code that has no fixture of its own, such as the contract rigs) and stopped when the session ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

USERS = {"alice": "alicepw", "bob": "bobpw"}


@dataclass(frozen=True)
class Radicale:
    """Where the server listens, who may log in (user -> password) and the file it reads them from on
    every request, so users and passwords change without a restart."""

    url: str
    users: dict[str, str]
    htpasswd: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add_user(self, name: str, password: str) -> None:
        """A new account (its calendar home appears on first use)."""
        self.set_password(name, password)

    def set_password(self, name: str, password: str) -> None:
        """Sets (or adds) a user's password; the next request already sees it."""
        with self._lock:
            self.users[name] = password
            _write_users(self.htpasswd, self.users)


_SERVER = pytest.StashKey[Radicale]()


def running_radicale(config: pytest.Config) -> Radicale:
    """This test process's server, started on first use and stopped at the end of the session."""
    found = config.stash.get(_SERVER, None)
    if found is None:
        found = _start(config)
        config.stash[_SERVER] = found
    return found


@pytest.fixture(scope="session")
def radicale(request: pytest.FixtureRequest) -> Radicale:
    return running_radicale(request.config)


def _write_users(path: Path, users: dict[str, str]) -> None:
    # Written aside and renamed: Radicale must never read a half-written file.
    scratch = path.with_suffix(".new")
    scratch.write_text("".join(f"{user}:{password}\n" for user, password in users.items()))
    os.replace(scratch, path)


def _start(config: pytest.Config) -> Radicale:
    root = Path(tempfile.mkdtemp(prefix="horae-radicale-"))
    port = _free_port()
    users_file = root / "users"
    _write_users(users_file, dict(USERS))
    (root / "config").write_text(
        f"""[server]
hosts = 127.0.0.1:{port}
[auth]
type = htpasswd
htpasswd_filename = {users_file}
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

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)

    config.add_cleanup(stop)
    _wait_for_port(port, process, root / "radicale.log")
    return Radicale(url=f"http://127.0.0.1:{port}", users=dict(USERS), htpasswd=users_file)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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
