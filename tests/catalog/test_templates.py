"""Templates and registry credentials through the catalog service."""

from __future__ import annotations

import pytest

from novita_gpu.catalog import CatalogService
from novita_gpu.core.errors import TemplateNotFound, ValidationFailed
from novita_gpu.emulator import World
from novita_gpu.upstream import PortSpec, ToolSpec
from tests.catalog.conftest import calls

PRIVATE_TEMPLATE = "108001"
TEAM_AUTH = "75irlsvvsehnqdajg2r481mjk54ecodc"


def ports(*specs: str) -> list[PortSpec]:
    return [
        PortSpec.model_validate({"port": p, "type": t}) for p, t in (s.split("/") for s in specs)
    ]


class TestGetTemplate:
    async def test_official_template_ports_are_flattened_once(
        self, catalog: CatalogService
    ) -> None:
        spec = await catalog.get_template("pytorch-jupyter")

        assert spec.image == "pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime"
        assert spec.ports == ports("8888/http", "22/tcp")
        assert spec.tools == [ToolSpec(name="Jupyter", port=8888, type="http")]
        assert spec.envs == [{"key": "JUPYTER_ENABLE_LAB", "value": "yes"}]
        assert (spec.rootfs_size, spec.image_auth_id) == (60, None)

    async def test_a_tool_port_missing_from_ports_is_added(
        self, catalog: CatalogService, world: World
    ) -> None:
        world.upsert_templates(
            [
                {
                    "Id": "900",
                    "name": "ssh + jupyter tool",
                    "image": "example/image:1",
                    "startCommand": "sleep infinity",
                    "ports": [{"type": "tcp", "ports": [22]}],
                    "tools": [{"name": "Jupyter", "port": 8888, "type": "http"}],
                }
            ]
        )

        spec = await catalog.get_template(900)

        assert spec.id == "900"
        assert spec.ports == ports("22/tcp", "8888/http")
        assert spec.start_command == "sleep infinity"

    async def test_templates_are_cached_and_returned_as_fresh_lists(
        self, catalog: CatalogService, world: World
    ) -> None:
        first = await catalog.get_template("pytorch-jupyter")
        first.ports.clear()
        second = await catalog.get_template("pytorch-jupyter")

        assert len(second.ports) == 2
        assert calls(world, "GET /template") == 1

    @pytest.mark.parametrize("template_id", ["no-such-template", " "])
    async def test_unknown_template_is_not_found(
        self, catalog: CatalogService, template_id: str
    ) -> None:
        with pytest.raises(TemplateNotFound):
            await catalog.get_template(template_id)


class TestRegistryCredentials:
    async def test_a_private_templates_auth_resolves_to_username_and_password(
        self, catalog: CatalogService
    ) -> None:
        spec = await catalog.get_template(PRIVATE_TEMPLATE)

        assert spec.image_auth_id == TEAM_AUTH
        assert await catalog.registry_credentials(TEAM_AUTH) == "team-bot:emulator-registry-secret"

    async def test_credentials_are_fetched_every_time_and_never_cached(
        self, catalog: CatalogService, world: World
    ) -> None:
        await catalog.registry_credentials(TEAM_AUTH)
        world.upsert_registry_auths(
            [{"id": TEAM_AUTH, "name": "team-registry", "username": "team-bot", "password": "new"}]
        )

        assert await catalog.registry_credentials(TEAM_AUTH) == "team-bot:new"
        assert calls(world, "GET /repository/auths") == 2
        assert "emulator-registry-secret" not in repr(catalog.stats())

    async def test_unknown_auth_id_is_a_validation_error(self, catalog: CatalogService) -> None:
        with pytest.raises(ValidationFailed) as caught:
            await catalog.registry_credentials("nope")

        assert caught.value.details == [
            {"field": "imageAuth", "message": "registry auth 'nope' not found upstream"}
        ]
