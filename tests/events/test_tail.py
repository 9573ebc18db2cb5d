"""Tailing the event table: every committed event exactly once, even when commits land out of
sequence order (PostgreSQL), with gaps given up after a grace period."""

from __future__ import annotations

import pytest

from novita_gpu.db.models import Instance
from novita_gpu.events.service import EventRecorder
from novita_gpu.events.tail import GRACE_SECONDS, MAX_GAPS, EventTail, SeqTracker, resolve_start
from novita_gpu.events.types import EventType
from tests.conftest import Api
from tests.events.helpers import insert_event
from tests.support.databases import using_postgres
from tests.support.events import add_instance, record


class TestSeqTracker:
    def test_in_order_numbers_are_emitted_once(self) -> None:
        tracker = SeqTracker(0, now=0)
        assert tracker.accept([1, 2, 3], now=0) == [1, 2, 3]
        assert tracker.accept([1, 2, 3, 4], now=0) == [4]
        assert (tracker.high, tracker.gaps) == (4, [])

    def test_a_late_commit_below_the_high_water_mark_is_emitted(self) -> None:
        tracker = SeqTracker(0, now=0)
        assert tracker.accept([1, 3], now=0) == [1, 3]
        assert tracker.gaps == [2]
        assert tracker.accept([2], now=1) == [2]
        assert tracker.gaps == []
        assert tracker.accept([2, 3], now=2) == []

    def test_a_gap_is_given_up_after_the_grace_period(self) -> None:
        tracker = SeqTracker(0, now=0, grace=5)
        tracker.accept([1, 4], now=0)
        assert tracker.gaps == [2, 3]
        assert tracker.accept([3], now=5) == [3]  # still within grace
        tracker.expire(5.1)
        assert tracker.gaps == []
        assert tracker.accept([2], now=6) == []  # taken as rolled back

    def test_new_gaps_get_their_own_grace(self) -> None:
        tracker = SeqTracker(0, now=0, grace=5)
        tracker.accept([2], now=0)
        tracker.accept([4], now=4)
        tracker.expire(5.5)
        assert tracker.gaps == [3]

    def test_numbers_missing_below_the_start_are_waited_for(self) -> None:
        tracker = SeqTracker(10, now=0, missing=[7, 9])
        assert tracker.gaps == [7, 9]
        assert tracker.accept([8, 9, 10, 11], now=1) == [9, 11]

    def test_a_huge_jump_remembers_a_bounded_number_of_gaps(self) -> None:
        tracker = SeqTracker(0, now=0)
        assert tracker.accept([1, 10 * MAX_GAPS], now=0) == [1, 10 * MAX_GAPS]
        assert len(tracker.gaps) == MAX_GAPS
        assert tracker.gaps[0] == 9 * MAX_GAPS

    def test_the_default_grace_is_a_few_seconds(self) -> None:
        assert 1 <= GRACE_SECONDS <= 30


class TestEventTail:
    async def test_reads_only_events_committed_after_the_start(self, api: Api) -> None:
        instance_id = await add_instance(api.ctx)
        before = await record(api.ctx, instance_id)
        seq, resumed = await resolve_start(api.ctx.db, None)
        tail = await EventTail.after_seq(api.ctx.db, api.clock, seq)
        assert (seq, resumed) == (before.seq, False)
        assert await tail.read() == []
        after = await record(api.ctx, instance_id, EventType.STARTING)
        assert [event.id for event in await tail.read()] == [after.id]
        assert await tail.read() == []

    async def test_resume_after_a_known_id(self, api: Api) -> None:
        instance_id = await add_instance(api.ctx)
        first = await record(api.ctx, instance_id)
        second = await record(api.ctx, instance_id, EventType.STARTING)
        assert await resolve_start(api.ctx.db, first.id) == (first.seq, True)
        tail = await EventTail.after_seq(api.ctx.db, api.clock, first.seq)
        assert [event.id for event in await tail.read()] == [second.id]

    async def test_an_unknown_id_starts_from_now(self, api: Api) -> None:
        instance_id = await add_instance(api.ctx)
        latest = await record(api.ctx, instance_id)
        assert await resolve_start(api.ctx.db, "evt_unknown") == (latest.seq, False)

    async def test_reads_in_batches(self, api: Api) -> None:
        instance_id = await add_instance(api.ctx)
        tail = await EventTail.after_seq(api.ctx.db, api.clock, 0)
        tail.batch = 2
        for event_type in list(EventType)[:3]:
            await record(api.ctx, instance_id, event_type)
        assert len(await tail.read()) == 2
        assert tail.behind
        assert len(await tail.read()) == 1
        assert not tail.behind

    async def test_a_late_commit_with_a_lower_number_is_not_skipped(self, api: Api) -> None:
        instance_id = await add_instance(api.ctx)
        tail = await EventTail.after_seq(api.ctx.db, api.clock, 0)
        await insert_event(api.ctx, instance_id, 1)
        await insert_event(api.ctx, instance_id, 3)  # 2 is still uncommitted
        assert [event.seq for event in await tail.read()] == [1, 3]
        api.clock.advance(GRACE_SECONDS - 1)
        await insert_event(api.ctx, instance_id, 2)
        assert [event.seq for event in await tail.read()] == [2]
        assert tail.tracker.gaps == []

    async def test_a_gap_never_filled_is_dropped_after_the_grace(self, api: Api) -> None:
        instance_id = await add_instance(api.ctx)
        tail = await EventTail.after_seq(api.ctx.db, api.clock, 0)
        await insert_event(api.ctx, instance_id, 2)
        await tail.read()
        assert tail.tracker.gaps == [1]
        api.clock.advance(GRACE_SECONDS + 1)
        assert await tail.read() == []
        assert tail.tracker.gaps == []

    async def test_a_late_commit_just_below_the_start_is_not_skipped(self, api: Api) -> None:
        instance_id = await add_instance(api.ctx)
        await insert_event(api.ctx, instance_id, 1)
        await insert_event(api.ctx, instance_id, 3)
        seq, _ = await resolve_start(api.ctx.db, None)
        tail = await EventTail.after_seq(api.ctx.db, api.clock, seq)
        await insert_event(api.ctx, instance_id, 2)
        assert [event.seq for event in await tail.read()] == [2]

    @pytest.mark.skipif(not using_postgres(), reason="concurrent writers need PostgreSQL")
    async def test_real_out_of_order_commits_on_postgresql(self, api: Api) -> None:
        slow_id = await add_instance(api.ctx, "slow")
        fast_id = await add_instance(api.ctx, "fast")
        tail = await EventTail.after_seq(api.ctx.db, api.clock, 0)
        async with api.ctx.db.write() as slow, slow.begin():
            instance = await slow.get(Instance, slow_id)
            assert instance is not None
            late = await EventRecorder(slow, api.clock).record(instance, EventType.CREATED)
            early = await record(api.ctx, fast_id)  # takes a higher number, commits first
            assert early.seq > late.seq
            assert [event.id for event in await tail.read()] == [early.id]
        assert [event.id for event in await tail.read()] == [late.id]
