"""Walking ``GET /gpu/instances`` page by page until every instance was seen, or saying it was not.

The public sources disagree on paging, so the walk assumes little:

- ``pageNum`` may start at 0 or at 1. The walk asks for page 0 first. A server counting from 1
  either answers page 0 with its first page (then page 1 repeats it, which is skipped over) or
  rejects 0 (then the walk starts again at 1).
- A page may be shorter than ``pageSize`` before the end (a server capping the size), so a short
  page does not end the walk while ``total`` says more instances exist.
- ``total`` may be a string, or absent. Without it the walk ends at the first page that brings no
  new id.

The result is an :class:`InstanceListing`. It is ``complete`` only when the instances seen plus
the items skipped as unreadable reach ``total`` (or, without a total, the walk reached a page
with nothing new). An incomplete listing must never be read as "the others are gone".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from novita_gpu.upstream.errors import UpstreamValidationError
from novita_gpu.upstream.instance_models import InstancePage, UpstreamInstance
from novita_gpu.upstream.lenient import SkippedItem

FetchPage = Callable[[int], Awaitable[InstancePage]]


@dataclass
class InstanceListing:
    """What a paged walk saw.

    ``instances`` holds each readable instance once; ``skipped`` each unreadable item once;
    ``total`` is upstream's last reported count; ``complete`` says every item was accounted for
    and ``cut_off`` that the page budget ran out first.
    """

    instances: list[UpstreamInstance] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)
    total: int | None = None
    pages: int = 0
    complete: bool = False
    cut_off: bool = False

    @property
    def accounted(self) -> int:
        """Instances seen plus items skipped."""
        return len(self.instances) + len(self.skipped)

    @property
    def skipped_ids(self) -> set[str]:
        """Ids of the skipped items that had one."""
        return {item.item_id for item in self.skipped if item.item_id}

    @property
    def absence_is_meaningful(self) -> bool:
        """True when an id missing from this listing is really not upstream: the walk was
        complete and every skipped item had an id (those ids are then known to exist)."""
        return self.complete and all(item.item_id for item in self.skipped)

    def describe(self) -> str:
        """``"7 of 9 instances (2 unreadable) in 3 pages"``, for errors and logs."""
        total = "?" if self.total is None else str(self.total)
        extra = f" ({len(self.skipped)} unreadable)" if self.skipped else ""
        return f"{self.accounted} of {total} instances{extra} in {self.pages} pages"


class _Walk:
    """State of one walk: ids seen, skipped keys, and whether a page brought anything new."""

    def __init__(self) -> None:
        self.listing = InstanceListing()
        self._seen: set[str] = set()
        self._skipped_keys: set[str] = set()

    def take(self, page: InstancePage, page_num: int) -> bool:
        """Fold ``page`` in; True when it brought an id or skipped item not seen before."""
        self.listing.pages += 1
        if page.total is not None:
            self.listing.total = page.total
        fresh = False
        for instance in page.instances:
            if instance.id not in self._seen:
                self._seen.add(instance.id)
                self.listing.instances.append(instance)
                fresh = True
        for item in page.skipped:
            key = item.item_id or f"{page_num}:{item.index}"
            if key not in self._skipped_keys:
                self._skipped_keys.add(key)
                self.listing.skipped.append(item)
                fresh = True
        return fresh

    @property
    def reached_total(self) -> bool:
        total = self.listing.total
        return total is not None and self.listing.accounted >= total


async def _first_page(fetch: FetchPage) -> tuple[int, InstancePage]:
    """Page 0, or page 1 when the server refuses 0 as a page number."""
    try:
        return 0, await fetch(0)
    except UpstreamValidationError:
        return 1, await fetch(1)


async def walk_instance_pages(fetch: FetchPage, *, max_pages: int) -> InstanceListing:
    """Read pages through ``fetch(page_num)`` as the module docstring describes.

    Raises what ``fetch`` raises; an incomplete walk is reported in the result, not raised.
    """
    walk = _Walk()
    page_num, page = await _first_page(fetch)
    first = page_num
    while True:
        fresh = walk.take(page, page_num)
        if walk.reached_total:
            break
        # Page 0 may be a 1-based server's page 1: nothing new on page 1 is expected then.
        repeat_allowed = first == 0 and page_num <= 1
        if not fresh and not repeat_allowed:
            break
        if walk.listing.pages >= max_pages:
            walk.listing.cut_off = True
            return walk.listing
        page_num += 1
        page = await fetch(page_num)
    listing = walk.listing
    listing.complete = listing.total is None or listing.accounted >= listing.total
    return listing
