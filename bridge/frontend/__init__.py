"""The aiohttp frontend: HTTP in, neutral calls to an `Invoker`, protocol replies out.

Imports aiohttp (as `bridge.admin` does), no store and no credential check. `create_app` builds the
application; `serve` runs it; `bridge.frontend.main.run_frontend` is the process's start-up.
"""

from bridge.frontend.app import create_app
from bridge.frontend.server import serve

__all__ = ["create_app", "serve"]
