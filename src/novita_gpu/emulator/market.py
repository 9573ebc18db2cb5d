"""The world's offer and what is left of it: catalog plus free capacity, and the rules that
depend on them (product checks on create, cluster choice, migration targets).
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterable, Mapping
from typing import Any

from novita_gpu.emulator.capacity import Capacity
from novita_gpu.emulator.catalog import Catalog, Product, RegistryAuth, Template
from novita_gpu.emulator.errors import (
    EmulatorError,
    insufficient_resource,
    not_found,
    validator_param,
)
from novita_gpu.emulator.lifecycle import random_token
from novita_gpu.emulator.models import Instance
from novita_gpu.emulator.validation import CreateRequest

ID_ALPHABET = string.ascii_lowercase + string.digits


class Market:
    """Catalog and capacity of one world. Not-found errors use ``not_found_status``."""

    def __init__(self, catalog: Catalog, rng: random.Random, not_found_status: int) -> None:
        self.catalog = catalog
        self.capacity = Capacity()
        self.rng = rng
        self.not_found_status = not_found_status
        for product in catalog.products.values():
            self.load_capacity(product)

    def template(self, template_id: str) -> Template:
        """Raises ``TEMPLATE_NOT_FOUND`` (status per config)."""
        template = self.catalog.templates.get(template_id)
        if template is None:
            status = self.not_found_status
            raise not_found(status, "TEMPLATE_NOT_FOUND", f"template {template_id} not found")
        return template

    def free_gpus(self, product: Product, cluster_id: str = "") -> int:
        """Most free GPUs in any of the product's clusters (or in ``cluster_id``)."""
        clusters = [c.id for c in self.catalog.clusters_of(product)]
        if cluster_id:
            clusters = [c for c in clusters if c == cluster_id]
        return max((self.capacity.free(product.id, c) for c in clusters), default=0)

    def upsert_products(self, products: Iterable[Product | Mapping[str, Any]]) -> list[str]:
        """Add or replace products (by id) and reset their capacity to ``capacity``.
        Raises ``EmulatorError`` for an unknown cluster id."""
        ids = []
        for item in products:
            product = item if isinstance(item, Product) else Product.model_validate(item)
            unknown = [c for c in product.cluster_ids if c not in self.catalog.clusters]
            if unknown:
                raise validator_param(f"product {product.id}: unknown clusters {unknown}")
            self.catalog.products[product.id] = product
            self.load_capacity(product)
            ids.append(product.id)
        return ids

    def upsert_templates(self, templates: Iterable[Template | Mapping[str, Any]]) -> list[str]:
        """Add or replace templates by ``Id``."""
        ids = []
        for item in templates:
            template = item if isinstance(item, Template) else Template.model_validate(item)
            self.catalog.templates[template.id] = template
            ids.append(template.id)
        return ids

    def upsert_registry_auths(self, auths: Iterable[RegistryAuth | Mapping[str, Any]]) -> list[str]:
        """Add or replace registry auths by ``id`` (a missing id gets a generated one)."""
        ids = []
        for item in auths:
            if not isinstance(item, RegistryAuth):
                item = RegistryAuth.model_validate(
                    {"id": random_token(self.rng, 32, ID_ALPHABET), **item}
                )
            self.catalog.registry_auths[item.id] = item
            ids.append(item.id)
        return ids

    def delete_registry_auth(self, auth_id: str) -> None:
        """Raises ``IMAGE_AUTH_IN_USE`` when a template references it, not-found if unknown."""
        if auth_id not in self.catalog.registry_auths:
            raise not_found(self.not_found_status, "RESOURCE_NOT_FOUND", "no such auth")
        if any(t.image_auth == auth_id for t in self.catalog.templates.values()):
            raise EmulatorError(400, "IMAGE_AUTH_IN_USE", "a template uses this registry auth")
        del self.catalog.registry_auths[auth_id]

    def set_capacity(self, product_id: str, cluster_id: str, available: int) -> None:
        """Set the free GPUs of one product in one cluster (0 = ``INSUFFICIENT_RESOURCE``)."""
        product = self.catalog.products.get(product_id)
        if product is None:
            raise validator_param(f"unknown product {product_id}")
        if cluster_id not in {c.id for c in self.catalog.clusters_of(product)}:
            raise validator_param(f"product {product_id} is not offered in {cluster_id}")
        if available < 0:
            raise validator_param("available must not be negative")
        self.capacity.set(product_id, cluster_id, available)

    def product_for(self, request: CreateRequest) -> Product:
        product = self.catalog.products.get(request.product_id)
        if product is None:
            raise validator_param(f"productId {request.product_id} not found")
        if request.billing_mode not in product.billing_methods:
            raise EmulatorError(
                400, "UNSUPPORTED_BILLING_MODE", f"{product.id} has no {request.billing_mode}"
            )
        if not product.min_root_fs <= request.rootfs_size <= product.max_root_fs:
            raise validator_param(
                f"rootfsSize must be between {product.min_root_fs} and {product.max_root_fs}"
            )
        if request.image_auth_id and request.image_auth_id not in self.catalog.registry_auths:
            raise validator_param(f"imageAuthId {request.image_auth_id} not found")
        return product

    def choose_cluster(self, product: Product, request: CreateRequest) -> str:
        offered = [c.id for c in self.catalog.clusters_of(product)]
        if request.cluster_id:
            if request.cluster_id not in offered:
                raise validator_param(f"{product.id} is not offered in {request.cluster_id}")
            return request.cluster_id
        roomy = [c for c in offered if self.capacity.free(product.id, c) >= request.gpu_num]
        if not roomy:
            raise insufficient_resource(f"no free {product.name}")
        return self.rng.choice(roomy)

    def migration_target(self, instance: Instance) -> tuple[Product, str] | None:
        options: list[tuple[bool, int, str, Product]] = []
        for product in self.catalog.products.values():
            if product.name != instance.product_name:
                continue
            if instance.billing_mode not in product.billing_methods:
                continue
            for cluster in self.catalog.clusters_of(product):
                if self.capacity.free(product.id, cluster.id) >= instance.gpu_num:
                    same = cluster.id == instance.cluster_id
                    price = product.price_for(instance.billing_mode)
                    options.append((same, price, cluster.id, product))
        if not options:
            return None
        _, _, cluster_id, product = min(options, key=lambda o: o[:3])
        return product, cluster_id

    def load_capacity(self, product: Product) -> None:
        for cluster in self.catalog.clusters_of(product):
            self.capacity.set(product.id, cluster.id, product.capacity)
