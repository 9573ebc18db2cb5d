"""``novita-gpu tokens create|list|revoke`` against the test database (SQLite or PostgreSQL).

Each command runs in a worker thread with no event loop, as from a shell: the command migrates
the database and then starts its own loop.
"""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner, Result

from novita_gpu.auth.tokens import TokenRepository, digest
from novita_gpu.cli.main import app
from novita_gpu.db.engine import Database


async def tokens(database_url: str, *args: str) -> Result:
    env = {"DATABASE_URL": database_url, "COLUMNS": "200"}

    def invoke() -> Result:
        return CliRunner().invoke(app, ["tokens", *args], env=env)

    return await asyncio.to_thread(invoke)


async def active_digests(database_url: str) -> list[str]:
    db = Database.from_url(database_url)
    try:
        async with db.read() as session:
            return await TokenRepository(session).active_digests()
    finally:
        await db.dispose()


async def test_create_prints_the_token_once_and_stores_only_its_digest(database_url: str) -> None:
    result = await tokens(database_url, "create", "--name", "ci")

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("ngpu_")
    assert "keep it now" in result.stderr
    assert await active_digests(database_url) == [digest(token)]


async def test_list_shows_names_never_tokens(database_url: str) -> None:
    token = (await tokens(database_url, "create", "--name", "nightly")).stdout.strip()

    listed = await tokens(database_url, "list")

    assert listed.exit_code == 0, listed.output
    assert "nightly" in listed.stdout
    assert token not in listed.stdout


async def test_revoke_deactivates_and_a_second_revoke_exits_3(database_url: str) -> None:
    await tokens(database_url, "create", "--name", "ci")
    db = Database.from_url(database_url)
    try:
        async with db.read() as session:
            (row,) = await TokenRepository(session).all()
    finally:
        await db.dispose()

    first = await tokens(database_url, "revoke", row.id)
    second = await tokens(database_url, "revoke", row.id)

    assert (first.exit_code, second.exit_code) == (0, 3), first.output + second.output
    assert await active_digests(database_url) == []
