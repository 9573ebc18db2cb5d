"""What the world offers: clusters, GPU products, templates and registry auths.

The models double as the admin API's input (camelCase JSON, snake_case in Python) and render the
upstream JSON shapes (:meth:`Product.to_upstream`, :meth:`Template.to_upstream`).

A product entry belongs to the clusters in ``cluster_ids`` (empty = every cluster, as upstream's
empty ``regions``). The default world gives every (GPU model, cluster) offer its own entry with its
own id and prices, so the same name appears several times, as on the real API.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer
from pydantic.alias_generators import to_camel

PortType = Literal["http", "tcp"]
BillingMethod = Literal["onDemand", "monthly", "spot"]


def _all_billing_methods() -> list[BillingMethod]:
    return ["onDemand", "monthly", "spot"]


class CamelModel(BaseModel):
    """camelCase on the wire, snake_case in Python; both accepted on input. Validators are
    built at first use, not at import (a faster start)."""

    model_config = ConfigDict(
        defer_build=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
    )


class Cluster(CamelModel):
    """A region. ``name`` is the display name (``US-CA-06``); ``city`` suffixes product regions."""

    id: str
    name: str
    city: str
    support_network_storage: bool = True
    support_instance_network: bool = False

    @property
    def region_label(self) -> str:
        """How products name this cluster in ``regions``: ``"US-CA-06 (California)"``."""
        return f"{self.name} ({self.city})"


class MonthlyPrice(CamelModel):
    price: int
    month: int


class Product(CamelModel):
    """A GPU offer. Prices are integers in 1/100000 USD per GPU-hour."""

    id: str = Field(min_length=1, max_length=255)
    name: str = Field(min_length=1)
    cpu_per_gpu: int = Field(ge=1)
    memory_per_gpu: int = Field(ge=1)
    disk_per_gpu: int = Field(default=50, ge=0)
    min_root_fs: int = Field(default=10, ge=10, alias="minRootFS")
    max_root_fs: int = Field(default=1000, le=6144, alias="maxRootFS")
    min_local_storage: int = Field(default=0, ge=0)
    max_local_storage: int = Field(default=500, ge=0)
    cluster_ids: list[str] = Field(default_factory=list)
    price: int = Field(ge=0)
    spot_price: int = Field(default=0, ge=0)
    monthly_price: list[MonthlyPrice] = Field(default_factory=list)
    billing_methods: list[BillingMethod] = Field(default_factory=_all_billing_methods)
    capacity: int = Field(default=8, ge=0)
    """Free GPUs in each of the product's clusters when it is (re)loaded."""

    def price_for(self, billing_mode: str) -> int:
        """Hourly price per GPU for ``billing_mode``."""
        return self.spot_price if billing_mode == "spot" else self.price


class PortGroup(CamelModel):
    type: PortType
    ports: list[int] = Field(max_length=10)


class EnvVar(CamelModel):
    key: str
    value: str


class Tool(CamelModel):
    name: str
    describe: str = ""
    port: int
    type: PortType = "http"


class RecommendCard(CamelModel):
    gpu_spec_id: str
    card_num: str


class Template(CamelModel):
    """An instance template. ``image_auth`` is a registry-auth *id*, not credentials."""

    id: str = Field(alias="Id", min_length=1)
    name: str
    readme: str = ""
    type: str = "instance"
    channel: Literal["official", "community", "private"] = "official"
    image: str
    image_auth: str = ""
    start_command: str = ""
    entrypoint: str = ""
    rootfs_size: int = 60
    ports: list[PortGroup] = Field(default_factory=list)
    envs: list[EnvVar] = Field(default_factory=list)
    tools: list[Tool] = Field(default_factory=list)
    created_at: int = 1735689600
    recommend_cards: list[RecommendCard] = Field(default_factory=list)
    min_cuda_version: str = ""

    @field_serializer("created_at")
    def _unix_string(self, value: int) -> str:
        return str(value)


class RegistryAuth(CamelModel):
    id: str
    name: str
    username: str
    password: str


class Catalog:
    """Lookup tables for the world's offer. Upserts replace entries by id."""

    def __init__(self) -> None:
        self.clusters: dict[str, Cluster] = {}
        self.products: dict[str, Product] = {}
        self.templates: dict[str, Template] = {}
        self.registry_auths: dict[str, RegistryAuth] = {}

    def clusters_of(self, product: Product) -> list[Cluster]:
        """Clusters offering ``product`` (all of them when its list is empty)."""
        if not product.cluster_ids:
            return list(self.clusters.values())
        return [self.clusters[c] for c in product.cluster_ids if c in self.clusters]

    def cluster_name(self, cluster_id: str) -> str:
        cluster = self.clusters.get(cluster_id)
        return cluster.name if cluster else cluster_id

    def product_to_upstream(
        self, product: Product, available: bool, free: int
    ) -> dict[str, object]:
        """The ``/products`` item for ``product`` with the given availability."""
        body = product.model_dump(exclude={"cluster_ids", "capacity", "spot_price"})
        labels = [c.region_label for c in self.clusters_of(product)]
        body["regions"] = labels if product.cluster_ids else []
        body["spotPrice"] = str(product.spot_price)
        body["availableDeploy"] = available
        body["inventoryState"] = _inventory_state(free)
        return body


def _inventory_state(free: int) -> str:
    if free <= 0:
        return "none"
    if free < 4:
        return "low"
    return "normal" if free < 16 else "high"
