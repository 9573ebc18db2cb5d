"""100 creates while a fifth of all upstream calls fail (5xx, 429, timeouts): every instance
ends ``ready`` or ``failed`` with a reason, none is lost and none is created twice."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.support.live import LiveStack, live_stack

pytestmark = pytest.mark.slow

CREATES = 100
RTX_4090_OFFERS = [
    ("4090.16c62g", "us-ca-6"),
    ("4090.18c60g", "as-sgp-2"),
    ("4090.16c46g", "cn-hongkong-1"),
    ("4090.12c48g", "eu-de-1"),
]
SETTLED = {"ready", "failed"}
OVERRIDES: dict[str, Any] = {
    # A loaded CI machine can take over a second to serve one create: keep the timeout and the
    # listing delay wide enough that a slow answer is not mistaken for a lost one.
    "request_timeout": 2000,
    "upstream_rate_per_second": 500,
    "create_listing_delay_seconds": 4,
    "instance_startup_timeout_minutes": 5,
}


async def create_with_retries(live: LiveStack, index: int) -> dict[str, Any]:
    """What a careful client does: same Idempotency-Key, retry on 503/504."""
    body = {
        "name": f"faulty-{index:03d}",
        "productName": "RTX 4090 24GB",
        "templateId": "pytorch-jupyter",
    }
    headers = {"Idempotency-Key": f"create-{index}"}
    for _ in range(30):
        response = await live.client.post("/api/instances", json=body, headers=headers)
        if response.status_code not in {503, 504}:
            assert response.status_code in {201, 422, 502}, response.text
            result: dict[str, Any] = response.json()
            return result
        await asyncio.sleep(float(response.headers.get("Retry-After", "0.2")) / 4)
    raise AssertionError(f"create {index} kept failing transiently")


async def all_settled(live: LiveStack) -> bool:
    listing = (await live.client.get("/api/instances", params={"limit": 500})).json()
    failed = (await live.client.get("/api/instances", params={"status": "failed,deleted"})).json()
    statuses = [i["status"] for i in listing["instances"]]
    return len(statuses) + failed["total"] >= CREATES and set(statuses) <= SETTLED


async def test_creates_survive_a_fifth_of_upstream_calls_failing(tmp_path: Path) -> None:
    async with live_stack(tmp_path, **OVERRIDES) as live:
        for product, cluster in RTX_4090_OFFERS:
            live.world.set_capacity(product, cluster, CREATES)
        for kind, rate in (("error", 0.08), ("rate_limit", 0.07), ("timeout", 0.07)):
            live.world.add_fault(kind, "*", rate=rate, retry_after=1, hang_seconds=5)
        await asyncio.gather(*(create_with_retries(live, i) for i in range(CREATES)))
        await live.wait_for(lambda: all_settled(live), timeout=180, what="every create to settle")
        live.world.clear_faults()

        ours = [i for i in live.world.instances() if i.name.startswith("faulty-")]
        alive_upstream = [i for i in ours if i.status.value != "removed"]
        names = [i.name for i in alive_upstream]
        twice = sorted({name for name in names if names.count(name) > 1})
        assert not twice, f"created twice: {twice}"

        rows: list[dict[str, Any]] = []
        for status in ("ready", "failed"):
            page = await live.client.get("/api/instances", params={"status": status, "limit": 500})
            rows += page.json()["instances"]
        tracked = {row["novitaInstanceId"] for row in rows if row["novitaInstanceId"]}
        assert {i.id for i in alive_upstream} <= tracked, "an upstream instance is not tracked"
        for row in rows:
            if row["status"] == "failed":
                assert row["lastError"], row
        ready_names = {row["name"] for row in rows if row["status"] == "ready"}
        assert len(ready_names) == len([row for row in rows if row["status"] == "ready"])
        assert {row["name"] for row in rows} == {f"faulty-{i:03d}" for i in range(CREATES)}
        assert len(ready_names) >= CREATES * 0.9  # ~1% may exhaust three create attempts
