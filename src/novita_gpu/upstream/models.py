"""Typed views of Novita's catalog responses and the base
model shared with :mod:`novita_gpu.upstream.instance_models`.

The models are lenient on purpose: unknown fields are ignored, missing fields take empty
defaults, and the value quirks of the real API are absorbed by the types in
:mod:`novita_gpu.upstream.fields`. Passwords are ``SecretStr`` and environment values are left
out of reprs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic.alias_generators import to_camel

from novita_gpu.upstream.fields import (
    Count,
    Flag,
    NullAsEmpty,
    OptionalCount,
    OptionalText,
    PriceUnits,
    Secret,
    Text,
    UnixTime,
    region_code,
    usd,
)
from novita_gpu.upstream.lenient import SkippedItem, lenient_list


class UpstreamModel(BaseModel):
    """Base for response models: camelCase aliases, numeric ids read as strings, extra fields
    ignored, immutable. Validators are built at first use, not at import (a faster start)."""

    model_config = ConfigDict(
        defer_build=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        coerce_numbers_to_str=True,
        extra="ignore",
        frozen=True,
    )


class EnvVar(UpstreamModel):
    """An environment variable. The value may be a secret, so it is not in the repr."""

    key: Text = ""
    value: Text = Field(default="", repr=False)


class PortSpec(UpstreamModel):
    """A port to expose: ``8888/http``."""

    port: int = Field(ge=1, le=65535)
    type: Literal["http", "tcp"] = "http"

    def __str__(self) -> str:
        return f"{self.port}/{self.type}"


class Cluster(UpstreamModel):
    """A Novita cluster (region), e.g. id ``us-ca-6`` named ``US-CA-06``."""

    id: str
    name: Text = ""
    available_gpu_type: Annotated[list[str], NullAsEmpty] = Field(default_factory=list)
    support_network_storage: Flag = False
    support_instance_network: Flag = False


class MonthlyPrice(UpstreamModel):
    """A subscription tier: ``price`` units per hour for ``month`` months."""

    price: PriceUnits = None
    month: Count = 0


class Product(UpstreamModel):
    """A GPU product offer. Prices are raw units of 1/100,000 USD per hour."""

    id: str
    name: Text = ""
    cpu_per_gpu: Count = 0
    memory_per_gpu: Count = 0
    disk_per_gpu: Count = 0
    available_deploy: Flag = False
    min_root_fs: Count = Field(default=0, alias="minRootFS")
    max_root_fs: Count = Field(default=0, alias="maxRootFS")
    min_local_storage: Count = 0
    max_local_storage: Count = 0
    regions: Annotated[list[str], NullAsEmpty] = Field(default_factory=list)
    price: PriceUnits = None
    monthly_price: Annotated[list[MonthlyPrice], NullAsEmpty] = Field(default_factory=list)
    billing_methods: Annotated[list[str], NullAsEmpty] = Field(default_factory=list)
    spot_price: PriceUnits = None
    inventory_state: OptionalText = None

    @property
    def region_codes(self) -> list[str]:
        """Cluster codes of :attr:`regions` (``"US-CA-06 (California)"`` -> ``"US-CA-06"``).

        An empty list means the product is offered in every cluster.
        """
        return [region_code(region) for region in self.regions]

    @property
    def price_usd(self) -> Decimal | None:
        """On-demand price in USD per hour."""
        return None if self.price is None else usd(self.price)

    @property
    def spot_price_usd(self) -> Decimal | None:
        """Spot price in USD per hour (``None`` when not offered as spot)."""
        return None if not self.spot_price else usd(self.spot_price)


class TemplatePortGroup(UpstreamModel):
    """Template ports grouped by type: ``{"type": "http", "ports": [8888]}``."""

    type: Text = "http"
    ports: Annotated[list[Count], NullAsEmpty] = Field(default_factory=list)


class TemplateTool(UpstreamModel):
    """A tool an official template offers, e.g. Jupyter on 8888/http."""

    name: Text = ""
    describe: Text = ""
    port: Count = 0
    type: Text = ""


class RecommendCard(UpstreamModel):
    """A GPU spec a template recommends."""

    gpu_spec_id: Text = ""
    card_num: Count = 0


class Template(UpstreamModel):
    """An instance template. ``image_auth`` is a registry-auth *id*, not credentials."""

    id: str = Field(validation_alias=AliasChoices("Id", "id"))
    name: Text = ""
    readme: Text = Field(default="", repr=False)
    type: Text = ""
    channel: Text = ""
    image: Text = ""
    image_auth: OptionalText = None
    start_command: Text = ""
    entrypoint: Text = ""
    rootfs_size: Count = 0
    ports: Annotated[list[TemplatePortGroup], NullAsEmpty] = Field(default_factory=list)
    envs: Annotated[list[EnvVar], NullAsEmpty] = Field(default_factory=list)
    tools: Annotated[list[TemplateTool], NullAsEmpty] = Field(default_factory=list)
    created_at: UnixTime = Field(
        default=None, validation_alias=AliasChoices("createdAt", "createTime")
    )
    recommend_cards: Annotated[list[RecommendCard], NullAsEmpty] = Field(default_factory=list)
    min_cuda_version: OptionalText = None

    def port_specs(self) -> list[PortSpec]:
        """The template's ports flattened for a create request (``8888/http``, ``22/tcp``)."""
        return [
            PortSpec(port=port, type="tcp" if group.type == "tcp" else "http")
            for group in self.ports
            for port in group.ports
        ]


class TemplatePage(UpstreamModel):
    """One page of templates. Novita names the array ``template`` (singular)."""

    templates: Annotated[list[Template], NullAsEmpty] = Field(
        default_factory=list, alias="template"
    )
    total: OptionalCount = None


class RegistryAuth(UpstreamModel):
    """Stored credentials for a private container registry."""

    id: str
    name: Text = ""
    username: Text = ""
    password: Secret = None

    def image_auth(self) -> SecretStr | None:
        """``username:password`` as the create call's ``imageAuth`` expects it."""
        if self.password is None:
            return None
        return SecretStr(f"{self.username}:{self.password.get_secret_value()}")


class ClusterList(UpstreamModel):
    """``GET /clusters``."""

    data: Annotated[list[Cluster], NullAsEmpty] = Field(default_factory=list)
    skipped: list[SkippedItem] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _skip_unreadable(cls, data: Any) -> Any:
        return lenient_list(data, "data", Cluster)


class ProductList(UpstreamModel):
    """``GET /products``."""

    data: Annotated[list[Product], NullAsEmpty] = Field(default_factory=list)
    skipped: list[SkippedItem] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _skip_unreadable(cls, data: Any) -> Any:
        return lenient_list(data, "data", Product)


class RegistryAuthList(UpstreamModel):
    """``GET /repository/auths``."""

    data: Annotated[list[RegistryAuth], NullAsEmpty] = Field(default_factory=list)


class TemplateEnvelope(UpstreamModel):
    """``GET /template``: ``{"template": {...}}``."""

    template: Template
