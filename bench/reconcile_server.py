"""The service as `serve --emulator-url` runs it, configured from the environment, with the
reconciler on. Usage: python -m bench.reconcile_server PORT"""

from __future__ import annotations

import sys

import uvicorn

from novita_gpu.app import AppOptions, create_app
from novita_gpu.core.config import load_settings
from novita_gpu.observability.logging import configure_logging

if __name__ == "__main__":
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings, AppOptions(migrate=False))
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
