"""What every bench shares: a throwaway embedded server with its demo credentials, and latency figures."""

from __future__ import annotations

import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.processes import HoraeProcess, serve


@contextmanager
def demo_server(database_url: str = "") -> Iterator[tuple[HoraeProcess, dict[str, str]]]:
    """`horae serve` on a free port with a fresh data directory and no rate limits to speak of,
    with the demo credentials it printed; stopped on the way out. With `database_url`, on that (empty)
    PostgreSQL database instead of SQLite."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        env = {"HORAE_RATE_LIMIT_PER_SECOND": "100000", "HORAE_RATE_LIMIT_PER_MINUTE": "1000000"}
        if database_url:
            env["HORAE_DATABASE_URL"] = database_url
        server = serve(data, data, **env)
        try:
            credentials = dict(
                line.removeprefix("export ").split("=", 1)
                for line in (data / "demo-credentials.env").read_text().splitlines()
                if line.startswith("export ")
            )
            store = "PostgreSQL" if database_url else "SQLite"
            print(f"server: {server.url}, embedded deployment ({store})")
            yield server, credentials
        finally:
            server.stop()


def latency(samples: list[float]) -> str:
    """`p50 x ms, p95 y ms` of samples in seconds."""
    ordered = sorted(samples)
    p95 = ordered[max(int(len(ordered) * 0.95) - 1, 0)]
    return f"p50 {statistics.median(ordered) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"
