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
    items: list[dict[str, Any]],
    *,
    with_total: bool = True,
    base: int = 0,
    cap: int | None = None,
    total_as_string: bool = False,
    reject_zero: bool = False,
) -> Callable[[httpx.Request], httpx.Response]:
    """Serve ``items`` in pages counted from ``base`` (a 1-based server reads 0 as 1 unless
    ``reject_zero``), at most ``cap`` items a page whatever ``pageSize`` asks."""

    def handler(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["pageNum"])
        if reject_zero and number == 0:
            return reply(400, {"code": 400, "reason": "VALIDATOR_PARAM", "message": "pageNum"})
        size = min(int(request.url.params["pageSize"]), cap or 10**6)
        index = max(number - base, 0)
        chunk = items[index * size : (index + 1) * size]
        total: int | str | None = len(items) if with_total else None
        if total is not None and total_as_string:
            total = str(total)
        return reply(
            body={
                **payloads.instance_page(*chunk),
                **({"total": total} if total is not None else {}),
            }
        )

    return handler


def items(count: int, name: str = "worker") -> list[dict[str, Any]]:
    return [payloads.list_item(f"{n:016x}", f"{name}-{n}") for n in range(count)]


def page_numbers(novita: FakeNovita) -> list[int]:
    return [int(r.url.params["pageNum"]) for r in novita.calls(LIST)]


def names(count: int) -> list[str]:
    return [f"worker-{n}" for n in range(count)]


class TestPaging:
    async def test_zero_based_pages_are_all_read(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(LIST, paged(items(7)))
        found = await client.list_all_instances(page_size=3)
        assert [i.name for i in found] == names(7)
        assert page_numbers(novita) == [0, 1, 2]

    async def test_one_based_pages_that_read_zero_as_one(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(LIST, paged(items(7), base=1))
        found = await client.list_all_instances(page_size=3)
        assert [i.name for i in found] == names(7)
        assert page_numbers(novita) == [0, 1, 2, 3]

    async def test_one_based_pages_that_refuse_zero(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(LIST, paged(items(5), base=1, reject_zero=True))
        found = await client.list_all_instances(page_size=2)
        assert [i.name for i in found] == names(5)
        assert page_numbers(novita) == [0, 1, 2, 3]

    async def test_short_pages_before_the_end_and_a_string_total(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(LIST, paged(items(45), cap=7, total_as_string=True))
        listing = await client.read_listing(page_size=100)
        assert [i.name for i in listing.instances] == names(45)
        assert (listing.complete, listing.total, listing.pages) == (True, 45, 7)

    async def test_without_total_reads_until_nothing_new(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(LIST, paged(items(4), with_total=False))
        assert len(await client.list_all_instances(page_size=2)) == 4
        assert page_numbers(novita) == [0, 1, 2]

    async def test_passes_filters_on_every_page(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(LIST, paged(items(3)))
        await client.list_all_instances(page_size=2, status="running", product_name="4090")
        for request in novita.calls(LIST):
            assert request.url.params["status"] == "running"
            assert request.url.params["productName"] == "4090"

    async def test_fewer_than_total_is_an_incomplete_listing(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        first_two = payloads.instance_page(*items(2), total=10)
        novita.on(LIST, reply(body=first_two))
        listing = await client.read_listing(page_size=2)
        assert [i.name for i in listing.instances] == names(2)
        assert not listing.complete
        assert not listing.absence_is_meaningful
        with pytest.raises(UpstreamPagingError, match="2 of 10"):
            await client.list_all_instances(page_size=2)

    async def test_shifted_pages_yield_each_instance_once(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        everything = items(4)
        novita.on(
            LIST,
            reply(body=payloads.instance_page(*everything[0:2], total=4)),
            reply(body=payloads.instance_page(everything[1], everything[2], total=4)),
            reply(body=payloads.instance_page(everything[3], total=4)),
        )
        found = await client.list_all_instances(page_size=2)
        assert [i.name for i in found] == names(4)

    async def test_page_budget_is_bounded(self, client: NovitaClient, novita: FakeNovita) -> None:
        novita.on(LIST, paged(items(7)))
        listing = await client.read_listing(page_size=2, max_pages=3)
        assert listing.cut_off
        assert not listing.complete
        assert page_numbers(novita) == [0, 1, 2]
        with pytest.raises(UpstreamPagingError):
            await client.list_all_instances(page_size=2, max_pages=3)


class TestUnreadableItems:
    async def test_a_bad_item_is_skipped_counted_and_keeps_the_listing_complete(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        bad = {"id": "bad0000000000000", "cpuNum": {"oops": 1}, "portMappings": "nope"}
        novita.on(LIST, reply(body=payloads.instance_page(*items(2), bad, total=3)))
        listing = await client.read_listing(page_size=10)
        assert [i.name for i in listing.instances] == names(2)
        assert [s.item_id for s in listing.skipped] == ["bad0000000000000"]
        assert listing.complete
        assert listing.absence_is_meaningful
        assert client.health.skipped_items == 1

    async def test_an_item_without_id_makes_absence_meaningless(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(LIST, reply(body=payloads.instance_page(*items(2), {"name": "x"}, total=3)))
        listing = await client.read_listing(page_size=10)
        assert listing.complete
        assert not listing.absence_is_meaningful
        with pytest.raises(UpstreamPagingError, match="cannot tell"):
            await client.find_instances_by_name("x")


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
