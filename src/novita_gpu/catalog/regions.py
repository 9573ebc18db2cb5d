"""Regions: Novita's clusters, addressed by their display code (``US-CA-06``).

Upstream names a cluster three ways: an id (``us-ca-6``) that a create takes, a name
(``US-CA-06``) that users type, and a product region label (``"US-CA-06 (California)"``).
:class:`ClusterIndex` maps between them; a region *code* in this package is always the
cluster's name as upstream spells it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from novita_gpu.upstream import Cluster, Product, region_code


@dataclass(frozen=True)
class RegionInfo:
    """One region for ``GET /api/regions``. ``city`` comes from product region labels."""

    code: str
    cluster_id: str
    city: str | None
    available_gpu_types: tuple[str, ...]
    support_network_storage: bool
    support_instance_network: bool
    is_default: bool


def region_city(label: str) -> str | None:
    """``"US-CA-06 (California)"`` -> ``"California"``; ``None`` without a parenthesis."""
    _, found, rest = label.partition("(")
    city = rest.rstrip().removesuffix(")").strip()
    return city if found and city else None


class ClusterIndex:
    """Clusters by code (case-insensitive) and by id."""

    def __init__(self, clusters: Iterable[Cluster]) -> None:
        self.clusters = sorted(clusters, key=lambda c: c.name)
        self._by_code = {c.name.upper(): c for c in self.clusters if c.name}
        self._by_id = {c.id.lower(): c for c in self.clusters}

    def codes(self) -> list[str]:
        """Every known region code, sorted."""
        return [c.name for c in self.clusters if c.name]

    def find(self, region: str) -> Cluster | None:
        """The cluster a user's region names: a code (any case), a product label or an id."""
        key = region_code(region).upper()
        return self._by_code.get(key) or self._by_id.get(key.lower())

    def code_of(self, region: str) -> str | None:
        """The canonical code for ``region`` (see :meth:`find`), or ``None`` if unknown."""
        cluster = self.find(region)
        return cluster.name if cluster else None


def region_infos(
    index: ClusterIndex, products: Iterable[Product], default_region: str
) -> list[RegionInfo]:
    """Every cluster as a :class:`RegionInfo`, sorted by code."""
    cities: dict[str, str] = {}
    for product in products:
        for label in product.regions:
            city = region_city(label)
            if city:
                cities.setdefault(region_code(label).upper(), city)
    default = index.code_of(default_region)
    return [
        RegionInfo(
            code=cluster.name,
            cluster_id=cluster.id,
            city=cities.get(cluster.name.upper()),
            available_gpu_types=tuple(cluster.available_gpu_type),
            support_network_storage=cluster.support_network_storage,
            support_instance_network=cluster.support_instance_network,
            is_default=cluster.name == default,
        )
        for cluster in index.clusters
    ]
