"""Response-shape variants: which of the disputed upstream shapes the emulator sends.

Public sources disagree on a few shapes of Novita's answers. The default follows the best
evidence (the console's code and the typed public SDK, whose integration tests run against the
live API); each alternative can be switched on so tests can run a client against it:

====================  =======================================  ==================================
field                 default (best evidence)                  alternatives
====================  =======================================  ==================================
``node``              one object                               ``list`` (older docs)
``page_base``         ``0``: page 0 is the first, 1 the second ``1``: 0 and 1 both the first
``max_page_size``     none                                     pages capped (short pages)
``total_as_string``   ``total`` as a number                    ``"45"``
``ssh``               ``both``: ``sshCommand`` + ``command``,  ``docs`` (``sshCommand`` only),
                      ``user``, ``password``                   ``sdk`` (``command``/``user``)
``job_error``         ``both``: ``errorMessage`` + ``message``  ``docs``, ``sdk``
``spot_price``        always                                   ``billing_only``: only when
                                                               ``billingMethod=spot`` is asked
====================  =======================================  ==================================

Named sets (``--shapes NAME``, ``NOVITA_EMULATOR_SHAPES``): ``default``, ``docs`` (what the
documentation pages show), ``sdk`` (what the typed SDK reads), ``hostile`` (every awkward
variant at once: short pages, string totals, prices only when asked for).
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

ShapeSetName = Literal["default", "docs", "sdk", "hostile"]


class Shapes(BaseModel):
    """The shape choices of one emulator (see the module docstring)."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    node: Literal["object", "list"] = "object"
    page_base: Literal[0, 1] = 0
    max_page_size: int | None = Field(default=None, ge=1)
    total_as_string: bool = False
    ssh: Literal["both", "docs", "sdk"] = "both"
    job_error: Literal["both", "docs", "sdk"] = "both"
    spot_price: Literal["always", "billing_only"] = "always"

    @classmethod
    def named(cls, name: str) -> Shapes:
        """The named set. Raises ``ValueError`` for an unknown name."""
        if name == "default":
            return cls()
        if name == "docs":
            return cls(node="list", page_base=1, ssh="docs", job_error="docs")
        if name == "sdk":
            return cls(ssh="sdk", job_error="sdk")
        if name == "hostile":
            return cls(
                max_page_size=7,
                total_as_string=True,
                ssh="sdk",
                job_error="sdk",
                spot_price="billing_only",
            )
        raise ValueError(f"unknown shape set {name!r}; use one of {get_args(ShapeSetName)}")

    def page_bounds(self, page_num: int, page_size: int) -> tuple[int, int]:
        """``(start, stop)`` indexes of page ``page_num`` of ``page_size`` items."""
        size = min(page_size, self.max_page_size or page_size)
        index = page_num - 1 if self.page_base == 1 else page_num
        start = max(index, 0) * size
        return start, start + size

    def total(self, count: int) -> int | str:
        """A list's ``total`` as this shape sends it."""
        return str(count) if self.total_as_string else count
