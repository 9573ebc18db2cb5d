"""An upstream outage costs one log line per breaker state change, not one per job tick."""

from __future__ import annotations

from structlog.testing import capture_logs

from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, create


async def test_one_line_per_breaker_state_change(api: Api, runner: Runner) -> None:
    await create(api, healthCheck=NO_PROBE)
    api.world.add_fault("error", "*", status=503)
    with capture_logs() as logs:
        for _ in range(20):  # a minute of 3-second ticks while upstream is down
            api.clock.advance(3)
            await runner.run_once("status_sync")
    events = [entry["event"] for entry in logs]
    assert [entry for entry in logs if entry.get("exc_info")] == []  # no traceback at all
    opened = events.index("upstream.breaker_opened")
    assert "job failed: upstream error" not in events[opened:]  # silent while open
    assert events.count("upstream.breaker_opened") <= 3  # opened, then once per failed trial
