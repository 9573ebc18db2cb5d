"""A faithful local imitation of the Novita GPU-instance API.

Three ways to use it:

- in-process: ``create_emulator_app()`` with
  ``httpx.AsyncClient(transport=emulator_transport(app))``;
- on a real port: ``async with EmulatorServer() as server`` (``server.api_url`` is the base URL a
  client needs; port endpoints answer over real HTTP only in this mode);
- from the CLI: ``run_emulator(host, port, config)``.

Time comes from an injected :class:`~novita_gpu.core.clock.Clock`; with a ``ManualClock`` tests
advance simulated time instead of sleeping. The :class:`World` is also a Python admin API.
"""

from novita_gpu.emulator.app import create_emulator_app
from novita_gpu.emulator.catalog import Product, RegistryAuth, Template
from novita_gpu.emulator.config import EmulatorConfig, StepDurations
from novita_gpu.emulator.errors import EmulatorError
from novita_gpu.emulator.faults import FaultKind, FaultRule
from novita_gpu.emulator.server import EmulatorServer, run_emulator
from novita_gpu.emulator.transport import emulator_transport
from novita_gpu.emulator.world import World

__all__ = [
    "EmulatorConfig",
    "EmulatorError",
    "EmulatorServer",
    "FaultKind",
    "FaultRule",
    "Product",
    "RegistryAuth",
    "StepDurations",
    "Template",
    "World",
    "create_emulator_app",
    "emulator_transport",
    "run_emulator",
]
