"""Policy values are validated and built from the service's settings."""

from __future__ import annotations

from typing import Any

import pytest

from novita_gpu.upstream import UpstreamPolicy


def test_from_settings_converts_milliseconds() -> None:
    policy = UpstreamPolicy.from_settings(
        request_timeout_ms=2500, max_retry_attempts=4, max_concurrency=8, rate_per_second=5.0
    )
    assert (policy.timeout_seconds, policy.max_attempts) == (2.5, 4)
    assert (policy.max_concurrency, policy.rate_per_second, policy.burst) == (8, 5.0, 5)


@pytest.mark.parametrize(
    "field", ["timeout_seconds", "max_attempts", "max_concurrency", "rate_per_second", "burst"]
)
def test_non_positive_values_are_refused(field: str) -> None:
    values: dict[str, Any] = {field: 0}
    with pytest.raises(ValueError, match=field):
        UpstreamPolicy(**values)
