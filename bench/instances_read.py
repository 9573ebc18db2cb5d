"""Read throughput of the instance API with 1,000 managed instances.

Prints requests/s and p50/p99 latency for ``GET /api/instances/{id}`` (random ids) and
``GET /api/instances?limit=100`` under concurrent load (wrk), next to the ceiling: a bare
endpoint in the same server returning a constant JSON body of the same size. The ratio says how
much of the server's capacity the real work leaves. Usage: ./dev bench instances_read [seconds]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import httpx

from bench._support import (
    free_port,
    print_table,
    run_wrk,
    seeded_database,
    start_server,
)

INSTANCES = 1_000
CONNECTIONS = 64


def _random_id_script(directory: Path, ids: list[str]) -> Path:
    quoted = ",".join(f'"{i}"' for i in ids)
    script = directory / "random_id.lua"
    script.write_text(
        f"local ids = {{{quoted}}}\n"
        "math.randomseed(7)\n"
        "request = function()\n"
        '  return wrk.format("GET", "/api/instances/" .. ids[math.random(#ids)])\n'
        "end\n"
    )
    return script


def main(seconds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        url, ids = seeded_database(directory, INSTANCES)
        server = start_server(
            "bench.read_server",
            free_port(),
            {
                "BENCH_DATABASE_URL": url,
                "BENCH_CONSTANT_DIR": str(directory),
                "RATE_LIMIT_MAX_REQUESTS": "100000000",
            },
        )
        try:
            one = httpx.get(f"{server.url}/api/instances/{ids[0]}").content
            page = httpx.get(f"{server.url}/api/instances", params={"limit": 100}).content
            (directory / "one.json").write_bytes(one)
            (directory / "page.json").write_bytes(page)
            script = _random_id_script(directory, ids)
            run_wrk(f"{server.url}/health/live", connections=CONNECTIONS, seconds=2)  # warm-up
            results = {
                "GET /api/instances/{id}": run_wrk(
                    server.url, connections=CONNECTIONS, seconds=seconds, script=script
                ),
                "ceiling, same body size": run_wrk(
                    f"{server.url}/bench/constant/one", connections=CONNECTIONS, seconds=seconds
                ),
                "GET /api/instances?limit=100": run_wrk(
                    f"{server.url}/api/instances?limit=100",
                    connections=CONNECTIONS,
                    seconds=seconds,
                ),
                "ceiling, same body size ": run_wrk(
                    f"{server.url}/bench/constant/page", connections=CONNECTIONS, seconds=seconds
                ),
            }
        finally:
            server.stop()
    rows = [
        [name, f"{r.requests_per_second:,.0f}", f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}"]
        for name, r in results.items()
    ]
    print_table(
        f"{INSTANCES} instances, {CONNECTIONS} connections, {seconds}s each,"
        " one server process (SQLite)",
        ["endpoint", "req/s", "p50 ms", "p99 ms"],
        rows,
    )
    values = list(results.values())
    print(f"\nbody sizes: one instance {len(one):,} B, page of 100 {len(page):,} B")
    print(
        f"GET one / ceiling:  {values[0].requests_per_second / values[1].requests_per_second:.2f}"
    )
    print(
        f"GET page / ceiling: {values[2].requests_per_second / values[3].requests_per_second:.2f}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
