"""The admin console of the sidecar's admin site: call log, API users and procedure catalogue.

Server-rendered pages (Jinja2, autoescaped) behind a password login, signed session cookies and
a CSRF token on every form. Served by the sidecar; may import aiohttp and the stores, must not
import grpc. `install_console` adds it to an aiohttp application; `AdminConsole` is what it needs.
"""

from bridge.admin.console import AdminConsole
from bridge.admin.console_app import MAX_FORM_BYTES, install_console

__all__ = ["MAX_FORM_BYTES", "AdminConsole", "install_console"]
