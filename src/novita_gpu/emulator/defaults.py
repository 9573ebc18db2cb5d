"""The default world: real cluster ids, four GPU models, the documented templates.

Each (GPU model, cluster) offer is its own product entry with a realistic spec id
(``<gpu>.<cpus>c<mem>g``) whose numbers differ per cluster, so ids are unique and prices differ:

| name | id | cluster | on-demand | spot |
|---|---|---|---|---|
| RTX 4090 24GB | 4090.16c62g | us-ca-6 | 35000 | 18000 |
| RTX 4090 24GB | 4090.18c60g | as-sgp-2 | 34000 | 19000 |
| RTX 4090 24GB | 4090.16c46g | cn-hongkong-1 | 36000 | 16000 |
| RTX 4090 24GB | 4090.12c48g | eu-de-1 | 39000 | 21000 |
| RTX 3080 12GB | 3080.8c30g | us-west-1 | 18000 | 9000 |
| RTX 3080 12GB | 3080.6c24g | as-in-1 | 16000 | 9500 |
| RTX 3080 12GB | 3080.8c32g | eu-west-1 | 19000 | 8500 |
| A100 80GB | a100.24c120g | us-ca-6 | 139000 | 70000 |
| A100 80GB | a100.16c120g | eu-de-1 | 129000 | 75000 |
| A100 80GB | a100.22c100g | oc-au-1 | 145000 | (no spot) |
| H100 80GB | h100.26c200g | us-west-1 | 249000 | 125000 |
| H100 80GB | h100.24c190g | as-sgp-2 | 259000 | 119000 |
| H100 80GB | h100.20c180g | eu-west-1 | 239000 | (no spot) |

Prices are 1/100000 USD per GPU-hour (35000 = $0.35/h).
"""

from __future__ import annotations

from novita_gpu.emulator.catalog import (
    BillingMethod,
    Catalog,
    Cluster,
    EnvVar,
    MonthlyPrice,
    PortGroup,
    Product,
    RegistryAuth,
    Template,
    Tool,
)

CLUSTERS = [
    Cluster(id="as-sgp-2", name="AS-SGP-02", city="Singapore", support_instance_network=True),
    Cluster(id="cn-hongkong-1", name="CN-HK-01", city="Hong Kong"),
    Cluster(id="us-ca-6", name="US-CA-06", city="California", support_instance_network=True),
    Cluster(id="us-west-1", name="US-WEST-01", city="Oregon"),
    Cluster(id="eu-de-1", name="EU-DE-01", city="Germany"),
    Cluster(id="eu-west-1", name="EU-WEST-01", city="Ireland", support_network_storage=False),
    Cluster(id="oc-au-1", name="OC-AU-01", city="Australia"),
    Cluster(id="as-in-1", name="AS-IN-01", city="India", support_network_storage=False),
]

# (name, id, cluster, on-demand price, spot price or 0, max rootfs GB, free GPUs)
_OFFERS: list[tuple[str, str, str, int, int, int, int]] = [
    ("RTX 4090 24GB", "4090.16c62g", "us-ca-6", 35000, 18000, 1000, 16),
    ("RTX 4090 24GB", "4090.18c60g", "as-sgp-2", 34000, 19000, 1000, 16),
    ("RTX 4090 24GB", "4090.16c46g", "cn-hongkong-1", 36000, 16000, 500, 8),
    ("RTX 4090 24GB", "4090.12c48g", "eu-de-1", 39000, 21000, 500, 8),
    ("RTX 3080 12GB", "3080.8c30g", "us-west-1", 18000, 9000, 300, 16),
    ("RTX 3080 12GB", "3080.6c24g", "as-in-1", 16000, 9500, 300, 8),
    ("RTX 3080 12GB", "3080.8c32g", "eu-west-1", 19000, 8500, 300, 8),
    ("A100 80GB", "a100.24c120g", "us-ca-6", 139000, 70000, 2000, 8),
    ("A100 80GB", "a100.16c120g", "eu-de-1", 129000, 75000, 2000, 8),
    ("A100 80GB", "a100.22c100g", "oc-au-1", 145000, 0, 2000, 4),
    ("H100 80GB", "h100.26c200g", "us-west-1", 249000, 125000, 4000, 8),
    ("H100 80GB", "h100.24c190g", "as-sgp-2", 259000, 119000, 4000, 8),
    ("H100 80GB", "h100.20c180g", "eu-west-1", 239000, 0, 4000, 4),
]


def _product(offer: tuple[str, str, str, int, int, int, int]) -> Product:
    name, product_id, cluster, price, spot, max_rootfs, free = offer
    cpus, memory = product_id.split(".")[1].rstrip("g").split("c")
    methods: list[BillingMethod] = (
        ["onDemand", "monthly", "spot"] if spot else ["onDemand", "monthly"]
    )
    return Product(
        id=product_id,
        name=name,
        cpu_per_gpu=int(cpus),
        memory_per_gpu=int(memory),
        disk_per_gpu=50,
        max_root_fs=max_rootfs,
        cluster_ids=[cluster],
        price=price,
        spot_price=spot,
        monthly_price=[
            MonthlyPrice(price=price * 720 * 85 // 100, month=1),
            MonthlyPrice(price=price * 720 * 3 * 80 // 100, month=3),
        ],
        billing_methods=methods,
        capacity=free,
    )


PRODUCTS = [_product(offer) for offer in _OFFERS]

REGISTRY_AUTHS = [
    RegistryAuth(
        id="75irlsvvsehnqdajg2r481mjk54ecodc",
        name="team-registry",
        username="team-bot",
        password="emulator-registry-secret",  # noqa: S106 - fake, public
    ),
    RegistryAuth(
        id="3f0c2a0e-6a1b-4a37-9d7b-6a3e9c1e5b21",
        name="ghcr-ci",
        username="ci-robot",
        password="emulator-ghcr-token",  # noqa: S106 - fake, public
    ),
]

_JUPYTER_SSH = [PortGroup(type="http", ports=[8888]), PortGroup(type="tcp", ports=[22])]
_JUPYTER_TOOL = [Tool(name="Jupyter", describe="JupyterLab", port=8888, type="http")]


def _official(template_id: str, name: str, image: str, readme: str) -> Template:
    return Template(
        id=template_id,
        name=name,
        readme=readme,
        channel="official",
        image=image,
        rootfs_size=60,
        ports=list(_JUPYTER_SSH),
        tools=list(_JUPYTER_TOOL),
        envs=[EnvVar(key="JUPYTER_ENABLE_LAB", value="yes")],
    )


TEMPLATES = [
    _official(
        "pytorch-jupyter",
        "PyTorch 2.4 + JupyterLab",
        "pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime",
        "PyTorch with JupyterLab on 8888 and SSH on 22.",
    ),
    _official(
        "tensorflow-jupyter",
        "TensorFlow 2.17 + JupyterLab",
        "tensorflow/tensorflow:2.17.0-gpu-jupyter",
        "TensorFlow with JupyterLab on 8888 and SSH on 22.",
    ),
    _official(
        "pytorch-training",
        "PyTorch 2.4 training (CUDA 12.4 devel)",
        "pytorch/pytorch:2.4.0-cuda12.4-cudnn9-devel",
        "PyTorch devel image for training jobs; JupyterLab on 8888, SSH on 22.",
    ),
    Template(
        id="212",
        name="Ubuntu 22.04 + CUDA 12.1",
        channel="official",
        image="nvidia/cuda:12.1.1-devel-ubuntu22.04",
        ports=[PortGroup(type="tcp", ports=[22])],
        min_cuda_version="12.1",
    ),
    Template(
        id="107672",
        name="ComfyUI",
        channel="community",
        image="yanwk/comfyui-boot:cu124-slim",
        rootfs_size=80,
        ports=[PortGroup(type="http", ports=[8188]), PortGroup(type="tcp", ports=[22])],
    ),
    Template(
        id="108001",
        name="team-private-trainer",
        channel="private",
        image="registry.example.com/team/trainer:1.4",
        image_auth="75irlsvvsehnqdajg2r481mjk54ecodc",
        rootfs_size=100,
        ports=list(_JUPYTER_SSH),
        envs=[EnvVar(key="WANDB_MODE", value="offline")],
    ),
]


def default_catalog() -> Catalog:
    """A fresh catalog holding the default world (new model objects each call)."""
    catalog = Catalog()
    catalog.clusters = {c.id: c.model_copy(deep=True) for c in CLUSTERS}
    catalog.products = {p.id: p.model_copy(deep=True) for p in PRODUCTS}
    catalog.templates = {t.id: t.model_copy(deep=True) for t in TEMPLATES}
    catalog.registry_auths = {a.id: a.model_copy(deep=True) for a in REGISTRY_AUTHS}
    return catalog


def empty_catalog() -> Catalog:
    """Clusters only: products, templates and auths are left to the admin API."""
    catalog = Catalog()
    catalog.clusters = {c.id: c.model_copy(deep=True) for c in CLUSTERS}
    return catalog
