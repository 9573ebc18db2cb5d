"""The rules as pure functions: thresholds, grace periods, heartbeats, runtime cap, auto-delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from novita_gpu.autostop.rules import Policy, confirmed, verdict
from novita_gpu.db.models import Instance

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = Policy(idle_minutes=10, startup_grace_minutes=45, creation_grace_minutes=60)


def row(**fields: object) -> Instance:
    values: dict[str, object] = {
        "status": "ready",
        "auto_stop_enabled": True,
        "auto_stop_idle_minutes": 10.0,
        "ready_at": T0,
        "running_since": T0,
        "started_at": None,
        "last_used_at": None,
        "max_runtime_minutes": None,
        "auto_delete_after_stopped_minutes": None,
        "stopped_at": None,
        **fields,
    }
    return Instance(**values)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class TestIdle:
    def test_creation_grace_protects_before_the_first_heartbeat(self) -> None:
        assert verdict(row(), at(59.9), POLICY) is None
        found = verdict(row(), at(60), POLICY)
        assert found is not None
        assert found.reason == "idle"
        assert found.data["lastUsedAt"] is None

    def test_startup_grace_applies_after_a_start(self) -> None:
        started = row(started_at=T0)
        assert verdict(started, at(44.9), POLICY) is None
        assert verdict(started, at(45), POLICY) is not None

    def test_idle_threshold_wins_over_a_shorter_grace(self) -> None:
        policy = Policy(idle_minutes=10, startup_grace_minutes=0, creation_grace_minutes=0)
        assert verdict(row(), at(9.9), policy) is None
        assert verdict(row(), at(10), policy) is not None

    def test_a_heartbeat_restarts_the_clock_without_grace(self) -> None:
        used = row(last_used_at=at(70))
        assert verdict(used, at(79.9), POLICY) is None
        found = verdict(used, at(80.5), POLICY)
        assert found is not None
        assert found.data["idleForMinutes"] == 10.5

    def test_fractional_minutes(self) -> None:
        quick = row(auto_stop_idle_minutes=0.5, last_used_at=T0)
        assert verdict(quick, T0 + timedelta(seconds=29), POLICY) is None
        assert verdict(quick, T0 + timedelta(seconds=30), POLICY) is not None

    def test_disabled_or_busy_statuses_are_never_idle(self) -> None:
        assert verdict(row(auto_stop_enabled=False), at(600), POLICY) is None
        assert verdict(row(status="health_checking"), at(600), POLICY) is None
        assert verdict(row(status="starting"), at(600), POLICY) is None


class TestRuntimeCapAndDelete:
    def test_runtime_cap_stops_despite_heartbeats(self) -> None:
        capped = row(max_runtime_minutes=30.0, last_used_at=at(29.9))
        assert verdict(capped, at(29.9), POLICY) is None
        found = verdict(capped, at(30), POLICY)
        assert found is not None
        assert (found.action, found.reason) == ("stop", "max_runtime")

    def test_auto_delete_after_stopped_minutes(self) -> None:
        stopped = row(status="stopped", auto_delete_after_stopped_minutes=5.0, stopped_at=T0)
        assert verdict(stopped, at(4.9), POLICY) is None
        found = verdict(stopped, at(5), POLICY)
        assert found is not None
        assert found.action == "delete"
        assert verdict(row(status="stopped", stopped_at=T0), at(999), POLICY) is None

    def test_actions_need_the_matching_upstream_status(self) -> None:
        assert confirmed("stop", "running")
        assert not confirmed("stop", "exited")
        assert not confirmed("stop", None)
        assert confirmed("delete", "exited")
        assert not confirmed("delete", "running")
