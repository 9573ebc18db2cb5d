"""The two hottest reads, answered before routing from rendered JSON.

``GET /api/instances/inst_...`` (no query) and ``GET /api/instances`` (no filter, no cursor,
optionally ``limit``) are what dashboards and pollers send over and over. This ASGI layer
answers them from :class:`~novita_gpu.instances.read_cache.ReadCache` and fills it on a miss
with the same queries and view as the routes. Anything else (other parameters, Novita ids, an
unknown instance, a database without commit detection) goes on to the routes unchanged, so
they stay the one definition of behaviour, validation and errors; the bytes are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from starlette.types import ASGIApp, Receive, Scope, Send

from novita_gpu.context import AppContext
from novita_gpu.instances.read_cache import ReadCache, Rendered, page
from novita_gpu.instances.repository import ListFilter, view_by_reference_query
from novita_gpu.instances.service import InstanceService
from novita_gpu.instances.views import InstanceRecord

LIST_PATH = "/api/instances"
_ONE_PREFIX = "/api/instances/inst_"
_ID_START = len("/api/instances/")
_MAX_LIMIT = 500
_JSON = (b"content-type", b"application/json")


@dataclass(frozen=True, slots=True)
class _RouteLabel:
    """Stands in for the route in ``scope["route"]``, for request metrics."""

    path: str


_ONE_ROUTE = _RouteLabel("/api/instances/{instance_id}")
_LIST_ROUTE = _RouteLabel(LIST_PATH)


def plain_limit(query: bytes) -> int | None:
    """The page size of a list query that has nothing but ``limit``; None otherwise."""
    if not query:
        return 100
    name, _, value = query.partition(b"=")
    if name != b"limit" or not value.isdigit() or len(value) > 3:
        return None
    limit = int(value)
    return limit if 1 <= limit <= _MAX_LIMIT else None


class FastReads:
    """See the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._ctx: AppContext | None = None
        self._cache: ReadCache | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            body = await self._answer(scope)
            if body is not None:
                length = (b"content-length", str(len(body)).encode())
                headers = [_JSON, length]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope) -> bytes | None:
        path: str = scope["path"]
        if path == LIST_PATH:
            limit = plain_limit(scope["query_string"])
            return None if limit is None else await self._page(scope, limit)
        if path.startswith(_ONE_PREFIX) and not scope["query_string"] and "/" not in path[15:]:
            return await self._one(scope, path[_ID_START:])
        return None

    def _cache_for(self, scope: Scope) -> tuple[AppContext, ReadCache] | None:
        ctx: Any = scope.get("state", {}).get("ctx")
        if not isinstance(ctx, AppContext) or ctx.db.changes is None:
            return None
        if ctx is not self._ctx or self._cache is None:
            self._ctx, self._cache = ctx, ReadCache(ctx.db.changes)
        return ctx, self._cache

    async def _one(self, scope: Scope, reference: str) -> bytes | None:
        found = self._cache_for(scope)
        if found is None:
            return None
        ctx, cache = found

        async def load() -> Rendered | None:
            rows = await ctx.db.fetch(view_by_reference_query(reference))
            return Rendered.of(cast(InstanceRecord, rows[0]), ctx.clock.now()) if rows else None

        entry = await cache.get(reference, load)
        if entry is None:
            return None
        scope["route"] = _ONE_ROUTE
        return entry.render(ctx.clock.now())

    async def _page(self, scope: Scope, limit: int) -> bytes | None:
        found = self._cache_for(scope)
        if found is None:
            return None
        ctx, cache = found

        async def load() -> Rendered:
            rows, total, cursor = await InstanceService(ctx).list_page(ListFilter(), None, limit)
            now = ctx.clock.now()
            return page([Rendered.of(row, now) for row in rows], total, cursor)

        rendered = await cache.get(limit, load)
        scope["route"] = _LIST_ROUTE
        return None if rendered is None else rendered.render(ctx.clock.now())
