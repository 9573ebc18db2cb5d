"""Listing pages sent again unchanged are not parsed again; anything else is."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from novita_gpu.upstream import NovitaClient
from novita_gpu.upstream.page_memo import PageMemo
from tests.upstream import payloads
from tests.upstream.conftest import FakeNovita, reply

LIST = "/gpu/instances"


class Counting:
    """A parse that counts its calls and fails on payloads that say so."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, payload: object) -> list[Any]:
        self.calls += 1
        if payload == "bad":
            raise ValueError("unreadable")
        return [payload]


class TestPageMemo:
    def test_an_equal_payload_gets_the_same_parse_back(self) -> None:
        memo: PageMemo[list[Any]] = PageMemo()
        parse = Counting()
        first = memo.parse(1, {"items": [1, 2]}, parse)
        again = memo.parse(1, {"items": [1, 2]}, parse)
        assert again is first
        assert parse.calls == 1

    def test_a_changed_payload_or_another_key_is_parsed(self) -> None:
        memo: PageMemo[list[Any]] = PageMemo()
        parse = Counting()
        memo.parse(1, {"items": [1, 2]}, parse)
        assert memo.parse(1, {"items": [1, 3]}, parse) == [{"items": [1, 3]}]
        assert memo.parse(2, {"items": [1, 3]}, parse) == [{"items": [1, 3]}]
        assert parse.calls == 3

    def test_a_failing_parse_is_not_remembered(self) -> None:
        memo: PageMemo[list[Any]] = PageMemo()
        parse = Counting()
        for _ in range(2):
            with pytest.raises(ValueError, match="unreadable"):
                memo.parse(1, "bad", parse)
        assert parse.calls == 2
        assert len(memo) == 0

    def test_the_least_recently_used_page_is_forgotten_first(self) -> None:
        memo: PageMemo[list[Any]] = PageMemo(max_pages=2)
        parse = Counting()
        memo.parse(1, "a", parse)
        memo.parse(2, "b", parse)
        memo.parse(1, "a", parse)  # 1 is now the most recent
        memo.parse(3, "c", parse)
        assert len(memo) == 2
        memo.parse(1, "a", parse)
        assert parse.calls == 3
        memo.parse(2, "b", parse)
        assert parse.calls == 4


def page(*items: dict[str, Any]) -> httpx.Response:
    return reply(body=payloads.instance_page(*items, total=len(items)))


class TestListingReuse:
    async def test_an_unchanged_page_reuses_its_instances(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        items = [payloads.list_item(f"{n:016x}", f"worker-{n}") for n in range(2)]
        novita.on(LIST, page(*items))
        first = await client.read_listing(page_size=10)
        again = await client.read_listing(page_size=10)
        assert [a is b for a, b in zip(first.instances, again.instances, strict=True)] == [
            True,
            True,
        ]

    async def test_a_changed_item_is_read_anew(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        item = payloads.list_item("0000000000000001", "worker", status="running")
        novita.on(LIST, page(item), page({**item, "status": "exited"}))
        assert [i.status for i in (await client.read_listing(page_size=10)).instances] == [
            "running"
        ]
        assert [i.status for i in (await client.read_listing(page_size=10)).instances] == ["exited"]

    async def test_a_reused_page_still_reports_its_unreadable_items(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        bad = {"id": "bad0000000000000", "portMappings": "nope"}
        novita.on(LIST, page(payloads.list_item("0000000000000001", "worker"), bad))
        for _ in range(2):
            listing = await client.read_listing(page_size=10)
            assert [s.item_id for s in listing.skipped] == ["bad0000000000000"]
            assert listing.absence_is_meaningful

    async def test_filtered_listings_are_parsed_every_time(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(LIST, page(payloads.list_item("0000000000000001", "worker")))
        first = await client.read_listing(page_size=10, name="worker")
        again = await client.read_listing(page_size=10, name="worker")
        assert first.instances[0] is not again.instances[0]
        assert first.instances[0] == again.instances[0]
