"""The service as `serve` runs it (one uvicorn process) on a seeded database, with background
jobs off so that only the measured requests load the process.
Usage: python -m bench.read_server PORT"""

from __future__ import annotations

import os
import sys

import uvicorn

from novita_gpu.app import AppOptions, create_app
from novita_gpu.core.config import load_settings

if __name__ == "__main__":
    settings = load_settings(database_url=os.environ["BENCH_DATABASE_URL"], log_level="warning")
    app = create_app(settings, AppOptions(migrate=False, background=False))
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
