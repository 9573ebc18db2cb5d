"""A stand-in training job: reads its config, "trains" for a few epochs, writes artifacts.

It needs nothing but Python, so it runs on any template and on the emulator. Replace it with
your own code; what matters is the shape: inputs next to it, outputs under ``out/``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

HERE = Path(__file__).parent
OUT = Path("out")


def main() -> None:
    config = json.loads((HERE / "config.json").read_text())
    epochs = int(os.environ.get("EPOCHS", config["epochs"]))
    OUT.mkdir(exist_ok=True)
    loss = 1.0
    for epoch in range(1, epochs + 1):
        loss *= config["decay"]
        print(f"epoch {epoch}/{epochs} loss={loss:.4f}", flush=True)
        time.sleep(config["seconds_per_epoch"])
    (OUT / "metrics.json").write_text(json.dumps({"epochs": epochs, "loss": loss}) + "\n")
    (OUT / "model.txt").write_text(f"weights after {epochs} epochs\n")
    print(f"wrote {OUT}/metrics.json and {OUT}/model.txt")


if __name__ == "__main__":
    main()
