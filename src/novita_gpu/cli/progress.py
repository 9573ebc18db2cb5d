"""The phase display of ``novita-gpu run`` on stderr: a spinner with the elapsed time and the
cost so far for the current phase, one line per finished phase, and a total.

Phases are reported from two threads (the SDK's event loop and the command), hence the lock.
On a terminal the spinner is live; in a CI log each phase gets a start and an end line.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from rich.console import Console
from rich.status import Status
from rich.text import Text

from novita_gpu.client import Instance

#: SDK and CLI phases that take time (shown with a spinner, except ``running``).
PHASES = ("creating", "waiting", "connecting", "uploading", "running", "downloading", "deleting")
# Statuses in which an instance accrues cost.
_BILLED = frozenset({"running", "health_checking", "ready", "stopping"})


def cost_so_far(instance: Instance | None, now: datetime | None = None) -> float:
    """The server's estimate, brought forward to ``now`` while the instance is billed."""
    if instance is None:
        return 0.0
    since = instance.started_at or instance.ready_at
    if instance.status not in _BILLED or since is None or not instance.price_per_hour:
        return instance.estimated_cost_usd
    running = ((now or datetime.now(UTC)) - since).total_seconds()
    return max(instance.estimated_cost_usd, instance.price_per_hour * max(0.0, running) / 3600)


def money(value: float) -> str:
    """Dollars, with enough digits that a few seconds of GPU time do not read as zero."""
    return f"${value:.4f}" if value >= 0.01 else f"${value:.6f}"


def seconds(value: float) -> str:
    if value < 60:
        return f"{value:.1f}s"
    minutes, rest = divmod(int(value), 60)
    return f"{minutes}m{rest:02d}s"


class JobProgress:
    """Tracks the current phase; ``instance`` returns the latest instance (or None)."""

    def __init__(
        self, console: Console, instance: Callable[[], Instance | None] = lambda: None
    ) -> None:
        self.console = console
        self.instance = instance
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._current: tuple[str, float] | None = None
        self._spinner: Status | None = None

    def phase(self, name: str) -> None:
        """Enter phase ``name``; any other name (``ready``, ``deleted``, ``kept``) just ends
        the current one."""
        with self._lock:
            self._end()
            if name in PHASES:
                self._begin(name)

    def finish(self, *, ok: bool = True) -> None:
        """End the current phase (marked failed unless ``ok``)."""
        with self._lock:
            self._end(ok)

    def cost(self) -> float:
        return cost_so_far(self.instance())

    def summary(self, outcome: str, *, ok: bool = True) -> None:
        """The closing line: ``outcome``, total time and cost (after ending the phase)."""
        self.finish(ok=ok)
        instance = self.instance()
        price = ""
        if instance is not None and instance.price_per_hour is not None:
            price = f" ({instance.product_name or 'instance'} at ${instance.price_per_hour:.3f}/h)"
        self.console.print(
            f"{outcome} in {seconds(time.monotonic() - self.started)},"
            f" cost {money(self.cost())}{price}",
            highlight=False,
        )

    def _begin(self, name: str) -> None:
        self._current = (name, time.monotonic())
        if name == "running" or not self.console.is_terminal:
            self.console.print(f"[dim]…[/] {name}", highlight=False)
            return
        self._spinner = self.console.status(_Live(self, name, self._current[1]))
        self._spinner.start()

    def _end(self, ok: bool = True) -> None:
        if self._current is None:
            return
        if self._spinner is not None:
            self._spinner.stop()
            self._spinner = None
        name, began = self._current
        self._current = None
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        self.console.print(
            f"{mark} {name:<12} {seconds(time.monotonic() - began):>8}"
            f"   {money(self.cost())} so far",
            highlight=False,
        )


class _Live:
    """The spinner's text, re-rendered on every refresh (so the clock and cost move)."""

    def __init__(self, progress: JobProgress, name: str, began: float) -> None:
        self.progress = progress
        self.name = name
        self.began = began

    def __rich__(self) -> Text:
        instance = self.progress.instance()
        status = f" ({instance.status})" if instance is not None else ""
        elapsed = seconds(time.monotonic() - self.began)
        return Text(f"{self.name}{status} {elapsed}   {money(self.progress.cost())} so far")
