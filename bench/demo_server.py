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
def demo_server() -> Iterator[tuple[HoraeProcess, dict[str, str]]]:
    """`horae serve` on a free port with a fresh data directory and no rate limits to speak of,
    with the demo credentials it printed; stopped on the way out."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        server = serve(data, data, HORAE_RATE_LIMIT_PER_SECOND="100000", HORAE_RATE_LIMIT_PER_MINUTE="1000000")
        try:
            credentials = dict(
                line.removeprefix("export ").split("=", 1)
                for line in (data / "demo-credentials.env").read_text().splitlines()
                if line.startswith("export ")
            )
            print(f"server: {server.url}, embedded deployment (SQLite)")
            yield server, credentials
        finally:
            server.stop()


def latency(samples: list[float]) -> str:
    """`p50 x ms, p95 y ms` of samples in seconds."""
    ordered = sorted(samples)
    p95 = ordered[max(int(len(ordered) * 0.95) - 1, 0)]
    return f"p50 {statistics.median(ordered) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"
