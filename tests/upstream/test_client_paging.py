"""The paging helper, the exact-name lookup and resolving a create with an unknown outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from novita_gpu.upstream import NovitaClient, UpstreamPagingError
from tests.upstream import payloads
from tests.upstream.conftest import FakeNovita, reply

LIST = "/gpu/instances"


def paged(
    items: list[dict[str, Any]], *, with_total: bool = True
) -> Callable[[httpx.Request], httpx.Response]:
    """Serve ``items`` the way Novita pages them (pageNum from 1; 0 reads as 1)."""

    def handler(request: httpx.Request) -> httpx.Response:
        size = int(request.url.params["pageSize"])
        number = max(1, int(request.url.params["pageNum"]))
        chunk = items[(number - 1) * size : number * size]
        total = len(items) if with_total else None
        return reply(body=payloads.instance_page(*chunk, total=total))

    return handler


def items(count: int, name: str = "worker") -> list[dict[str, Any]]:
    return [payloads.list_item(f"{n:016x}", f"{name}-{n}") for n in range(count)]


def page_numbers(novita: FakeNovita) -> list[int]:
    return [int(r.url.params["pageNum"]) for r in novita.calls(LIST)]


class TestPaging:
    async def test_stops_on_a_short_page(self, client: NovitaClient, novita: FakeNovita) -> None:
        novita.on(LIST, paged(items(5), with_total=False))
        found = await client.list_all_instances(page_size=2)
        assert [i.name for i in found] == [f"worker-{n}" for n in range(5)]
        assert page_numbers(novita) == [1, 2, 3]

    async def test_stops_when_total_is_reached(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(LIST, paged(items(4)))
        assert len(await client.list_all_instances(page_size=2)) == 4
        assert page_numbers(novita) == [1, 2]

    async def test_without_total_reads_one_empty_page(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(LIST, paged(items(4), with_total=False))
        assert len(await client.list_all_instances(page_size=2)) == 4
        assert page_numbers(novita) == [1, 2, 3]

    async def test_passes_filters_on_every_page(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(LIST, paged(items(3)))
        await client.list_all_instances(page_size=2, status="running", product_name="4090")
        for request in novita.calls(LIST):
            assert request.url.params["status"] == "running"
            assert request.url.params["productName"] == "4090"

    async def test_a_repeated_page_ends_the_walk_without_duplicates(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        first_two = payloads.instance_page(*items(2), total=10)
        novita.on(LIST, reply(body=first_two))
        found = await client.list_all_instances(page_size=2)
        assert [i.name for i in found] == ["worker-0", "worker-1"]
        assert page_numbers(novita) == [1, 2]

    async def test_shifted_pages_yield_each_instance_once(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        everything = items(4)
        novita.on(
            LIST,
            reply(body=payloads.instance_page(*everything[0:2], total=5)),
            reply(body=payloads.instance_page(everything[1], everything[2], total=5)),
            reply(body=payloads.instance_page(everything[3], total=5)),
        )
        found = await client.list_all_instances(page_size=2)
        assert [i.name for i in found] == [f"worker-{n}" for n in range(4)]

    async def test_page_budget_is_bounded(self, client: NovitaClient, novita: FakeNovita) -> None:
        novita.on(LIST, paged(items(7)))
        with pytest.raises(UpstreamPagingError):
            await client.list_all_instances(page_size=2, max_pages=3)
        assert page_numbers(novita) == [1, 2, 3]

    async def test_iter_is_lazy(self, client: NovitaClient, novita: FakeNovita) -> None:
        novita.on(LIST, paged(items(6)))
        walk = client.iter_instances(page_size=2)
        first = await anext(walk)
        assert first.name == "worker-0"
        assert page_numbers(novita) == [1]
        await walk.aclose()


class TestFindByName:
    async def test_exact_match_over_a_fuzzy_filter(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        fuzzy = [
            payloads.list_item("a" * 16, "job-1"),
            payloads.list_item("b" * 16, "job-10"),
            payloads.list_item("c" * 16, "my-job-1"),
        ]
        novita.on(LIST, paged(fuzzy))
        found = await client.find_instances_by_name("job-1")
        assert [i.id for i in found] == ["a" * 16]
        assert novita.calls(LIST)[0].url.params["name"] == "job-1"

    async def test_resolve_prefers_the_newest_live_instance(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(
            LIST,
            paged(
                [
                    payloads.list_item("1" * 16, "job", status="removed", createdAt="1768435900"),
                    payloads.list_item("2" * 16, "job", status="creating", createdAt="1768435300"),
                    payloads.list_item("3" * 16, "job", status="toCreate", createdAt="1768435400"),
                    payloads.list_item("4" * 16, "job-2", createdAt="1768435999"),
                ]
            ),
        )
        resolved = await client.resolve_unknown_create("job")
        assert resolved is not None
        assert resolved.id == "3" * 16

    async def test_resolve_finds_nothing(self, client: NovitaClient, novita: FakeNovita) -> None:
        novita.on(LIST, paged([payloads.list_item("1" * 16, "job", status="removing")]))
        assert await client.resolve_unknown_create("job") is None
