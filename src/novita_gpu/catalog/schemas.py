"""JSON shapes of the catalog routes: camelCase on the wire, built from the service's values.

Templates are shown without credentials: a private image's registry auth appears only as
``hasImageAuth: true``.
"""

from __future__ import annotations

from dataclasses import asdict

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from novita_gpu.catalog.listing import ProductOffer
from novita_gpu.catalog.offers import BillingMode
from novita_gpu.catalog.regions import RegionInfo
from novita_gpu.catalog.templates import TemplateSpec


class CamelModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, frozen=True
    )


class ProductOfferOut(CamelModel):
    """An offer; prices are USD per GPU-hour, ``pricePerHour`` in ``billingMode``."""

    product_id: str
    product_name: str
    region: str
    cluster_id: str | None
    billing_mode: BillingMode
    price_per_hour: float | None
    spot_price: float | None
    on_demand_price: float | None
    available: bool
    reason: str | None
    inventory_state: str | None
    cpu_per_gpu: int
    memory_per_gpu: int
    min_rootfs: int
    max_rootfs: int


class ProductsOut(CamelModel):
    products: list[ProductOfferOut]
    total: int

    @classmethod
    def of(cls, offers: list[ProductOffer]) -> ProductsOut:
        rows = [ProductOfferOut.model_validate(asdict(offer)) for offer in offers]
        return cls(products=rows, total=len(rows))


class PortOut(CamelModel):
    port: int
    type: str


class EnvOut(CamelModel):
    key: str
    value: str


class ToolOut(CamelModel):
    name: str
    port: int
    type: str


class TemplateOut(CamelModel):
    id: str
    name: str
    image: str
    has_image_auth: bool
    ports: list[PortOut]
    envs: list[EnvOut]
    tools: list[ToolOut]
    rootfs_size: int
    start_command: str

    @classmethod
    def of(cls, spec: TemplateSpec) -> TemplateOut:
        return cls(
            id=spec.id,
            name=spec.name,
            image=spec.image,
            has_image_auth=spec.image_auth_id is not None,
            ports=[PortOut(port=p.port, type=p.type) for p in spec.ports],
            envs=[EnvOut.model_validate(env) for env in spec.envs],
            tools=[ToolOut(name=t.name, port=t.port, type=t.type) for t in spec.tools],
            rootfs_size=spec.rootfs_size,
            start_command=spec.start_command,
        )


class RegionOut(CamelModel):
    code: str
    cluster_id: str
    city: str | None
    available_gpu_types: list[str]
    support_network_storage: bool
    support_instance_network: bool
    is_default: bool


class RegionsOut(CamelModel):
    regions: list[RegionOut]

    @classmethod
    def of(cls, regions: list[RegionInfo]) -> RegionsOut:
        return cls(regions=[RegionOut.model_validate(asdict(region)) for region in regions])


class CacheCountersOut(CamelModel):
    entries: int
    hits: int
    misses: int
    coalesced: int


class CacheStatsOut(CamelModel):
    ttl_seconds: float
    caches: dict[str, CacheCountersOut]


class CacheClearOut(CamelModel):
    cleared: dict[str, int]
    total: int
