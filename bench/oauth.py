"""Print how fast the foundation answers: token exchange, refresh and userinfo over real HTTP.

Starts `horae serve` on a free loopback port with a throwaway data directory, then measures.
Run with `make bench`. Prints figures only; nothing here asserts a speed.
"""

from __future__ import annotations

import time

import httpx
from demo_server import demo_server, latency


def _percentiles(samples: list[float]) -> str:
    return f"{latency(samples)}, {len(samples) / sum(samples):.0f} req/s sequential"


def main() -> None:
    with demo_server() as (server, credentials), httpx.Client(base_url=server.url) as http:
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


if __name__ == "__main__":
    main()
