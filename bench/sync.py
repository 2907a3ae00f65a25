"""How long Horae takes to sync a large CalDAV calendar from a real Radicale server, and how much memory
it needs: the initial sync of 5,000 events (link, discovery, sync-collection, multiget, parse, store), then
an incremental sync after 10 of them change. Prints figures; asserts nothing.

Run with `make bench` (or `.venv/bin/python bench/sync.py`); Radicale runs as a separate process."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from horae import bootstrap
from horae.settings import Settings

EVENTS = int(os.environ.get("BENCH_SYNC_EVENTS", "5000"))
CHANGED = 10
USER, PASSWORD = "bench", "bench-password"


def start_radicale(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    root.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (root / "users").write_text(f"{USER}:{PASSWORD}\n")
    (root / "config").write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = htpasswd\nhtpasswd_filename = {root / 'users'}\n"
        f"htpasswd_encryption = plain\ndelay = 0\n[rights]\ntype = owner_only\n[storage]\n"
        f"filesystem_folder = {root / 'collections'}\n[web]\ntype = none\n[logging]\nlevel = warning\n"
    )
    process = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(root / "config")])
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("Radicale did not start")


def vevent(n: int, summary: str, start: datetime) -> str:
    stamp = start.strftime("%Y%m%dT%H%M%SZ")
    end = (start + timedelta(minutes=30)).strftime("%Y%m%dT%H%M%SZ")
    lines = [f"UID:bench-{n}@horae", f"DTSTAMP:{stamp}", f"DTSTART:{stamp}", f"DTEND:{end}", f"SUMMARY:{summary}"]
    return "BEGIN:VEVENT\r\n" + "".join(line + "\r\n" for line in lines) + "END:VEVENT\r\n"


def seed(http: httpx.Client, url: str, now: datetime) -> list[datetime]:
    """One PUT of a whole calendar: Radicale splits it into one object per UID."""
    starts = [
        now - timedelta(days=40) + timedelta(hours=(n * 7) % (24 * 230), minutes=(n % 2) * 30) for n in range(EVENTS)
    ]
    body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Horae bench//EN\r\n"
    body += "".join(vevent(n, f"Meeting {n}", start) for n, start in enumerate(starts))
    body += "END:VCALENDAR\r\n"
    response = http.put(f"{url}/{USER}/work/", content=body.encode(), headers={"Content-Type": "text/calendar"})
    response.raise_for_status()
    return starts


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="horae-bench-sync-"))
    radicale, url = start_radicale(root / "radicale")
    try:
        with httpx.Client(auth=(USER, PASSWORD), timeout=120) as http:
            now = datetime.now(UTC).replace(microsecond=0)
            started = time.perf_counter()
            starts = seed(http, url, now)
            print(f"seeded {EVENTS} events into Radicale in {time.perf_counter() - started:.1f} s")
            settings = Settings(
                data_dir=root / "horae",
                queue_url="immediate",
                embedded_worker=False,
                password_time_cost=1,
                password_memory_cost=8,
                log_level="WARNING",
                log_format="console",
            )
            bootstrap.migrate(settings)
            container = bootstrap.build(settings)
            account = container.accounts.sign_up("bench@example.com", "bench password", "Bench").account

            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            tracemalloc.start()
            started = time.perf_counter()
            form = {"server_url": url, "username": USER, "password": PASSWORD}
            profile = container.connections.link(account.id, "caldav", form)  # the initial sync runs inline
            initial = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            with container.uow() as uow:
                stored = uow.profiles.get(profile.id)
                calendars = [c for c in uow.calendars.for_account(account.id) if c.profile_id == profile.id]
                count = sum(len(uow.events.synced(c.id)) for c in calendars)
            assert stored is not None
            print(f"initial sync: {count} events stored in {initial:.2f} s, profile {stored.status}")
            print(
                f"  peak Python allocations during the sync {peak / 2**20:.0f} MiB (tracemalloc, which also slows it)"
            )
            print(f"  process peak RSS {rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MiB")

            for n in range(CHANGED):
                body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Horae bench//EN\r\n"
                body += vevent(n, f"Meeting {n} (changed)", starts[n] + timedelta(minutes=15)) + "END:VCALENDAR\r\n"
                http.put(f"{url}/{USER}/work/bench-{n}@horae.ics", content=body.encode()).raise_for_status()
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                with container.uow() as uow:
                    current = uow.profiles.get(profile.id)
                    assert current is not None
                    container.sync.schedule(uow, current)  # runs inline when the transaction commits
                    uow.commit()
                timings.append(time.perf_counter() - started)
            print(f"incremental sync after {CHANGED} changes: {timings[0] * 1000:.0f} ms")
            print(f"  with nothing changed: {min(timings[1:]) * 1000:.0f} ms")
    finally:
        radicale.terminate()
        radicale.wait(timeout=10)


if __name__ == "__main__":
    main()
