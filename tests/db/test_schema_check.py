"""``serve`` migrates only when the schema is not at the newest revision (one query), and the
newest revision read from the version files' text is Alembic's own head."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.script import ScriptDirectory

from novita_gpu.db.migrate import (
    alembic_config,
    ensure_schema,
    head_revision,
    schema_revisions,
    upgrade,
)


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert [head_revision()] == script.get_heads()


async def test_a_new_database_is_migrated_then_left_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert await schema_revisions(url) == set()
    assert await ensure_schema(url)
    assert await schema_revisions(url) == {head_revision()}
    assert not await ensure_schema(url)


async def test_a_database_behind_the_head_is_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(upgrade, url, "0001")
    assert await schema_revisions(url) == {"0001"}
    assert await ensure_schema(url)
    assert await schema_revisions(url) == {head_revision()}
