"""The aiohttp frontend: HTTP in, neutral calls to an `Invoker`, protocol replies out.

The only package that imports aiohttp. `create_app` builds the application; `serve` runs it.
"""

from bridge.frontend.app import create_app
from bridge.frontend.server import serve

__all__ = ["create_app", "serve"]
