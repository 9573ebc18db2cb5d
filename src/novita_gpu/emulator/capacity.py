"""Free GPUs per (product, cluster): what creates and starts consume and stops release."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reservation:
    """GPUs an instance holds in one product/cluster pool."""

    product_id: str
    cluster_id: str
    gpus: int


class Capacity:
    """A ledger of free GPUs. Unknown pools have none."""

    def __init__(self) -> None:
        self._free: dict[tuple[str, str], int] = {}

    def free(self, product_id: str, cluster_id: str) -> int:
        return self._free.get((product_id, cluster_id), 0)

    def set(self, product_id: str, cluster_id: str, available: int) -> None:
        """Set the free count outright (admin). Raises ``ValueError`` when negative."""
        if available < 0:
            raise ValueError("available must not be negative")
        self._free[(product_id, cluster_id)] = available

    def take(self, product_id: str, cluster_id: str, gpus: int) -> Reservation | None:
        """Reserve ``gpus``; ``None`` (and no change) when the pool has fewer free."""
        if self.free(product_id, cluster_id) < gpus:
            return None
        self._free[(product_id, cluster_id)] -= gpus
        return Reservation(product_id, cluster_id, gpus)

    def give_back(self, reservation: Reservation) -> None:
        key = (reservation.product_id, reservation.cluster_id)
        self._free[key] = self._free.get(key, 0) + reservation.gpus

    def snapshot(self) -> list[dict[str, object]]:
        """Every pool as ``{productId, clusterId, available}``."""
        return [
            {"productId": product, "clusterId": cluster, "available": free}
            for (product, cluster), free in sorted(self._free.items())
        ]
