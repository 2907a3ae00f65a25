"""Print how fast the foundation answers: token exchange, refresh and userinfo over real HTTP.

Starts `horae serve` on a free loopback port with a throwaway data directory, then measures.
Run with `make bench`. Prints figures only; nothing here asserts a speed.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.processes import serve


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"p50 {p50 * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms, {len(samples) / sum(samples):.0f} req/s sequential"


def main() -> None:
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
            with httpx.Client(base_url=server.url) as http:
                auth = {"Authorization": f"Bearer {credentials['HORAE_ACCESS_TOKEN']}"}
                for label, call in [
                    ("GET /v1/userinfo", lambda: http.get("/v1/userinfo", headers=auth)),
                    ("GET /v1/profiles", lambda: http.get("/v1/profiles", headers=auth)),
                    (
                        "POST /oauth/token (refresh)",
                        lambda: http.post(
                            "/oauth/token",
                            json={
                                "grant_type": "refresh_token",
                                "client_id": credentials["HORAE_CLIENT_ID"],
                                "client_secret": credentials["HORAE_CLIENT_SECRET"],
                                "refresh_token": credentials["HORAE_REFRESH_TOKEN"],
                            },
                        ),
                    ),
                ]:
                    for _ in range(20):
                        call()
                    samples = []
                    for _ in range(300):
                        started = time.perf_counter()
                        response = call()
                        samples.append(time.perf_counter() - started)
                        response.raise_for_status()
                    print(f"{label:32} {_percentiles(samples)}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
