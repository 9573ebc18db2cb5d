"""The emulator's world saved to a state file and loaded into a new one: instances keep their
status, credentials and capacity; transitions cut short by the restart end where they lead."""

from __future__ import annotations

from pathlib import Path

import pytest

from novita_gpu.core.clock import ManualClock
from novita_gpu.emulator import EmulatorConfig, EmulatorServer, World
from novita_gpu.emulator.persistence import load_world, save_world
from tests.emulator.helpers import create_body

PRODUCT, CLUSTER = "4090.16c62g", "us-ca-6"


def new_world(clock: ManualClock) -> World:
    return World(EmulatorConfig(random_seed=3), clock=clock)


def make(world: World, name: str, **overrides: object) -> str:
    body = create_body(name=name, productId=PRODUCT, clusterId=CLUSTER, **overrides)
    return world.create_instance(body).id


def test_statuses_credentials_and_capacity_survive(clock: ManualClock, tmp_path: Path) -> None:
    world = new_world(clock)
    running, stopped = make(world, "running"), make(world, "stopped")
    world.advance(10)
    world.stop_instance(stopped)
    world.advance(10)
    creating = make(world, "creating")
    deleting = make(world, "deleting")
    world.advance(10)
    world.delete_instance(deleting)
    world.settle()
    free = world.capacity.free(PRODUCT, CLUSTER)
    ssh_port = world.instance(running).credentials.ssh_port
    state = tmp_path / "state.json"
    save_world(world, state)

    restored = new_world(clock)
    assert load_world(restored, state) == 3
    assert restored.instance(running).status.value == "running"
    assert restored.instance(running).credentials.ssh_port == ssh_port
    assert restored.instance(stopped).status.value == "exited"
    assert restored.instance(creating).status.value == "running"
    assert restored.find_instance(deleting) is None
    assert restored.capacity.free(PRODUCT, CLUSTER) == free + 1  # the deleted one's GPU


def test_a_transition_cut_short_ends_where_it_leads(clock: ManualClock, tmp_path: Path) -> None:
    world = new_world(clock)
    instance_id = make(world, "half-created")
    state = tmp_path / "state.json"
    save_world(world, state)
    assert world.instance(instance_id).status.value == "toCreate"

    restored = new_world(clock)
    load_world(restored, state)
    assert restored.instance(instance_id).status.value == "running"


def test_a_missing_file_is_a_fresh_world_and_junk_is_refused(
    clock: ManualClock, tmp_path: Path
) -> None:
    assert load_world(new_world(clock), tmp_path / "none.json") == 0
    junk = tmp_path / "junk.json"
    junk.write_text("{nope")
    with pytest.raises(ValueError, match="not an emulator state file"):
        load_world(new_world(clock), junk)


async def test_the_server_saves_at_stop_and_loads_at_start(tmp_path: Path) -> None:
    state = tmp_path / "emulator-state.json"
    async with EmulatorServer(EmulatorConfig(speed=0), state_file=state) as first:
        instance_id = make(first.world, "kept")
    async with EmulatorServer(EmulatorConfig(speed=0), state_file=state) as second:
        assert second.world.instance(instance_id).status.value == "running"
