"""FastAPI dependencies as ``Annotated`` aliases: the context and database sessions.

Sessions commit at the edge: a write session commits when the handler returns without raising
and rolls back otherwise. Services and repositories never commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from novita_gpu.context import AppContext


async def get_context(request: Request) -> AppContext:
    """The app context (async: a sync dependency would cost a thread hop per request)."""
    ctx: AppContext = request.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


async def read_session(ctx: ContextDep) -> AsyncIterator[AsyncSession]:
    async with ctx.db.read() as session:
        yield session


async def write_session(ctx: ContextDep) -> AsyncIterator[AsyncSession]:
    async with ctx.db.write() as session, session.begin():
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(read_session, scope="function")]
WriteSessionDep = Annotated[AsyncSession, Depends(write_session, scope="function")]
