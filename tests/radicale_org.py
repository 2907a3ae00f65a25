"""A Radicale server of its own for an organization (Enterprise Connect tests): a service user `svc` that
can read and write every user's calendars (Radicale's `from_file` rights), people with calendars, and a
switch to take the server down and bring it back on the same port and storage. GPL: run, never imported."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from tests.radicale import _free_port, _wait_for_port, _write_users

SERVICE_USER, SERVICE_PASSWORD = "svc", "svc-password"
# First matching section wins: svc reaches everyone's calendars; everyone else only their own.
RIGHTS = """
[svc-root]
user: svc
collection:
permissions: R

[svc-principals]
user: svc
collection: [^/]+
permissions: RW

[svc-calendars]
user: svc
collection: [^/]+/[^/]+
permissions: rw

[root]
user: .+
collection:
permissions: R

[principal]
user: .+
collection: {user}
permissions: RW

[calendars]
user: .+
collection: {user}/[^/]+
permissions: rw
"""


@dataclass
class Organization:
    root: Path
    port: int
    users: dict[str, str] = field(default_factory=lambda: {SERVICE_USER: SERVICE_PASSWORD})
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.root / "radicale.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(self.root / "config")], stdout=log, stderr=log
        )
        _wait_for_port(self.port, self.process, self.root / "radicale.log")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def add_person(self, user: str, events: dict[str, datetime]) -> None:
        """A user who has set up a calendar `cal` holding these events (summary -> start, one hour each)."""
        password = f"{user}-password"
        self.users[user] = password
        _write_users(self.root / "users", self.users)
        with httpx.Client(base_url=self.url, auth=(user, password), timeout=10) as http:
            http.request("MKCOL", f"/{user}/")
            http.request("MKCALENDAR", f"/{user}/cal/").raise_for_status()
            for n, (summary, start) in enumerate(events.items()):
                stamp = start.strftime("%Y%m%dT%H%M%SZ")
                end = (start + timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
                body = (
                    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Horae tests//EN\r\nBEGIN:VEVENT\r\n"
                    f"UID:{user}-{n}\r\nDTSTAMP:{stamp}\r\nDTSTART:{stamp}\r\nDTEND:{end}\r\nSUMMARY:{summary}\r\n"
                    "END:VEVENT\r\nEND:VCALENDAR\r\n"
                )
                http.put(f"/{user}/cal/{user}-{n}.ics", content=body.encode()).raise_for_status()

    def break_storage(self, user: str) -> None:
        """The user's calendar is still listed, but every read of its contents fails (500): a cache entry
        left behind as a file where Radicale expects a directory."""
        folder = self.root / "collections" / "collection-root" / user / "cal"
        cache = folder / ".Radicale.cache"
        if cache.is_dir():
            for path in sorted(cache.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            cache.rmdir()
        cache.write_text("not a directory")


def start_organization() -> Organization:
    root = Path(tempfile.mkdtemp(prefix="horae-radicale-org-"))
    org = Organization(root, _free_port())
    _write_users(root / "users", org.users)
    (root / "rights").write_text(RIGHTS)
    (root / "config").write_text(
        f"[server]\nhosts = 127.0.0.1:{org.port}\n[auth]\ntype = htpasswd\nhtpasswd_filename = {root / 'users'}\n"
        f"htpasswd_encryption = plain\ndelay = 0\n[rights]\ntype = from_file\nfile = {root / 'rights'}\n"
        f"[storage]\nfilesystem_folder = {root / 'collections'}\n[web]\ntype = none\n[logging]\nlevel = warning\n"
    )
    org.start()
    return org
