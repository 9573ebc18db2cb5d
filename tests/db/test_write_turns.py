"""On SQLite, write sessions of one process take turns in order (an asyncio lock before
SQLite's own), so a waiting writer starts as soon as the previous one ends."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from novita_gpu.db.engine import Database


async def test_write_sessions_take_turns_in_arrival_order(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'turns.db'}")
    order: list[str] = []
    first_inside = asyncio.Event()
    release_first = asyncio.Event()

    async def writer(name: str, hold: asyncio.Event | None = None) -> None:
        async with db.write() as session, session.begin():
            order.append(f"{name} in")
            if hold is not None:
                first_inside.set()
                await hold.wait()
            await session.execute(text("SELECT 1"))
            order.append(f"{name} out")

    try:
        first = asyncio.create_task(writer("a", release_first))
        await first_inside.wait()
        others = [asyncio.create_task(writer(name)) for name in ("b", "c")]
        await asyncio.sleep(0.05)
        assert order == ["a in"]
        release_first.set()
        await asyncio.gather(first, *others)
        assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]
    finally:
        await db.dispose()
