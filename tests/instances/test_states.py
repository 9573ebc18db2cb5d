"""The status machine: every upstream status maps to a local one, and folding upstream's view
never overrules our own verdicts or a stop/delete in progress."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from novita_gpu.instances.states import (
    Status,
    UpstreamStatus,
    fold_upstream_status,
    parse_upstream_status,
    status_for_upstream,
)

OURS = frozenset({Status.FAILED, Status.TERMINATED, Status.MIGRATING, Status.DELETED})
upstream_values = st.sampled_from([s.value for s in UpstreamStatus]) | st.text(max_size=12)


def test_every_upstream_status_has_a_local_meaning() -> None:
    for status in UpstreamStatus:
        assert status_for_upstream(status.value) is not None, status


def test_legacy_spellings_are_understood() -> None:
    assert parse_upstream_status("Running") is UpstreamStatus.RUNNING
    assert parse_upstream_status("terminated") is UpstreamStatus.REMOVED
    assert parse_upstream_status("bogus") is None


@given(st.sampled_from(list(Status)), upstream_values)
def test_fold_keeps_our_verdicts(current: Status, raw: str) -> None:
    folded = fold_upstream_status(current, raw)
    if current in OURS or parse_upstream_status(raw) is None:
        assert folded == current


@given(st.sampled_from([Status.HEALTH_CHECKING, Status.READY]))
def test_running_upstream_keeps_readiness(current: Status) -> None:
    assert fold_upstream_status(current, "running") == current


@given(upstream_values)
def test_a_requested_delete_only_ends_deleted(raw: str) -> None:
    assert fold_upstream_status(Status.DELETING, raw) in {Status.DELETING, Status.DELETED}


@given(upstream_values)
def test_a_requested_stop_is_not_undone_by_a_late_running(raw: str) -> None:
    folded = fold_upstream_status(Status.STOPPING, raw)
    assert folded not in {Status.RUNNING, Status.CREATING}
