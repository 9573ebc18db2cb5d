"""The GPU job of github-actions/gpu-job.yml written with the Python SDK.

    NOVITA_GPU_URL=http://127.0.0.1:3000 python examples/ci_job.py

The instance is deleted when the ``with`` block ends, however it ends (an exception, Ctrl-C,
SIGTERM), and the server ends it after ``max_runtime`` even if this process is killed.
The script exits with the training command's exit status.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from novita_gpu.client import Client

HERE = Path(__file__).parent


def main() -> int:
    name = f"ci-{os.environ.get('GITHUB_RUN_ID', 'local')}-{os.getpid()}"
    with (
        Client() as client,  # NOVITA_GPU_URL and NOVITA_GPU_TOKEN from the environment
        client.ephemeral_instance(
            "RTX 4090 24GB",
            "pytorch-jupyter",
            name=name,
            max_runtime=45,  # minutes
            on_phase=lambda phase: print(f"[{name}] {phase}", file=sys.stderr),
        ) as gpu,
    ):
        gpu.put(HERE / "training", "training")
        status = gpu.run("python3 training/train.py", env={"EPOCHS": "4"})
        if status == 0:
            gpu.get("out", "out")
        print(f"[{name}] exit status {status}, ${gpu.refresh().estimated_cost_usd:.6f} so far")
    return status


if __name__ == "__main__":
    sys.exit(main())
