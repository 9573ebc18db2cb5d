"""Read throughput of the instance API, as a ratio of a bare Starlette ceiling.

Seeds 1,000 ready instances, runs the service as ``serve`` does (one process, SQLite) and, in
another process, bare Starlette on uvicorn serving the very same response bytes from memory.
For ``GET /api/instances/{id}`` (random ids) and ``GET /api/instances?limit=100`` it prints
requests/s and p50/p99 at concurrency 1 and 32, ours next to the ceiling measured in the same
run, and the ratio next to its goal (0.6 and 0.25). Usage: ./dev bench instances_read [seconds]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import httpx

from bench._support import (
    LoadResult,
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


GOALS = {"one": 0.6, "page": 0.25}


def _measure(
    ours: str, ceiling: str, script: Path, seconds: int
) -> list[tuple[str, int, LoadResult, LoadResult]]:
    results = []
    for connections in (1, 32):
        for kind in ("one", "page"):
            if kind == "one":
                mine = run_wrk(ours, connections=connections, seconds=seconds, script=script)
            else:
                page = f"{ours}/api/instances?limit=100"
                mine = run_wrk(page, connections=connections, seconds=seconds)
            bare = run_wrk(f"{ceiling}/c/{kind}", connections=connections, seconds=seconds)
            results.append((kind, connections, mine, bare))
    return results


def main(seconds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        url, ids = seeded_database(directory, INSTANCES)
        env = {
            "BENCH_DATABASE_URL": url,
            "BENCH_CONSTANT_DIR": str(directory),
            "RATE_LIMIT_MAX_REQUESTS": "100000000",
        }
        server = start_server("bench.read_server", free_port(), env)
        try:
            one = httpx.get(f"{server.url}/api/instances/{ids[0]}").content
            page = httpx.get(f"{server.url}/api/instances", params={"limit": 100}).content
            (directory / "one.json").write_bytes(one)
            (directory / "page.json").write_bytes(page)
            ceiling = start_server("bench.ceiling_server", free_port(), env)
            try:
                run_wrk(f"{server.url}/health/live", connections=8, seconds=1)  # warm-up
                results = _measure(
                    server.url, ceiling.url, _random_id_script(directory, ids), seconds
                )
            finally:
                ceiling.stop()
        finally:
            server.stop()
    _report(results, seconds, len(one), len(page))


def _report(
    results: list[tuple[str, int, LoadResult, LoadResult]], seconds: int, one: int, page: int
) -> None:
    rows = []
    for kind, connections, mine, bare in results:
        name = "GET /api/instances/{id}" if kind == "one" else "GET /api/instances?limit=100"
        ratio = mine.requests_per_second / bare.requests_per_second
        rows.append(
            [
                name,
                str(connections),
                f"{mine.requests_per_second:,.0f}",
                f"{bare.requests_per_second:,.0f}",
                f"{ratio:.2f}",
                f">= {GOALS[kind]}",
                f"{mine.p50_ms:.2f} / {mine.p99_ms:.2f}",
            ]
        )
    print_table(
        f"{INSTANCES} instances, {seconds}s per run, one server process (SQLite);"
        " ceiling = bare Starlette serving the same bytes, same run",
        ["request", "conc.", "ours req/s", "ceiling req/s", "ratio", "goal", "p50/p99 ms"],
        rows,
    )
    print(f"\nbody sizes: one instance {one:,} B, page of 100 {page:,} B")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
