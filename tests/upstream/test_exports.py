"""The package's public surface is pinned, like httpx's tests/test_exported_members.py."""

from __future__ import annotations

import novita_gpu.upstream as upstream


def test_all_is_sorted_and_complete() -> None:
    assert upstream.__all__ == sorted(upstream.__all__, key=lambda n: (not n.isupper(), n))
    for name in upstream.__all__:
        assert name.isupper() or getattr(upstream, name).__module__.startswith(
            "novita_gpu.upstream"
        )


def test_pinned_members() -> None:
    assert set(upstream.__all__) == {
        "PRICE_UNITS_PER_USD",
        "ActionResult",
        "BreakerState",
        "CallObserver",
        "CallOutcome",
        "Cluster",
        "CreateInstanceRequest",
        "CreateOutcomeUnknown",
        "EnvVar",
        "Idempotency",
        "InstanceListing",
        "InstancePage",
        "SkippedItem",
        "SyncReport",
        "UpstreamCondition",
        "UpstreamHealth",
        "InstanceStatus",
        "Job",
        "JobPage",
        "MigrateResult",
        "NovitaClient",
        "PortMapping",
        "PortSpec",
        "Product",
        "RegistryAuth",
        "SSHEndpoint",
        "StatusError",
        "Template",
        "TemplatePage",
        "ToolSpec",
        "UpstreamAuthError",
        "UpstreamCircuitOpen",
        "UpstreamConnectionError",
        "UpstreamDecodeError",
        "UpstreamError",
        "UpstreamInstance",
        "UpstreamInsufficientResource",
        "UpstreamInvalidState",
        "UpstreamNotFound",
        "UpstreamPagingError",
        "UpstreamPolicy",
        "UpstreamRateLimited",
        "UpstreamRequestError",
        "UpstreamServerError",
        "UpstreamTimeout",
        "UpstreamTransientError",
        "UpstreamValidationError",
        "parse_ssh_command",
        "region_code",
        "usd",
    }
