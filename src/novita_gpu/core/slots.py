"""A counted capacity without waiting: take a slot or be told there is none."""

from __future__ import annotations


class Slots:
    """At most ``limit`` holders at a time; :meth:`take` never waits."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0

    def take(self) -> bool:
        """Take a slot; False (and nothing taken) when all are in use."""
        if self.in_use >= self.limit:
            return False
        self.in_use += 1
        return True

    def give_back(self) -> None:
        self.in_use = max(0, self.in_use - 1)
