"""The `rpcbridge` command: parses arguments, builds settings once, runs one role.

Subcommands: `up`, `worker`, `legacy`, `sidecar`, `frontend`, `users`, `admin`, `db`, `webhooks`,
`conformance`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from bridge.errors import ConfigError
from bridge.legacy.upstream import PROTOCOLS, UpstreamConfig
from bridge.observability import configure_logging
from bridge.settings import Settings, load_settings, secret_from_environment
from bridge.store.interfaces import StoreError
from bridge.supervisor import run_up
from bridge.tracing import configure_tracing
from bridge.user_commands import add_user_commands, run_user_command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rpcbridge", description="XML-RPC / JSON-RPC / gRPC bridge")
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {importlib.metadata.version('rpcbridge')}"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML settings file")
    common.add_argument("--data-dir", type=Path, help="where the embedded stores live")
    common.add_argument(
        "--database-url", metavar="URL", help="postgresql://... (default: SQLite in the data dir)"
    )
    common.add_argument("--redis-url", metavar="URL", help="redis://... to share nonces between sidecars")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, parents=[common])

    up = command("up", "start sidecar, frontend and workers as one local deployment")
    up.add_argument(
        "--worker", action="append", default=[], metavar="TARGET", help="module[:attr] or file.py[:attr]"
    )
    up.add_argument(
        "--legacy",
        action="append",
        default=[],
        metavar="[PREFIX=]URL",
        help="also start a legacy adapter for this XML-RPC server (see `rpcbridge legacy`)",
    )
    up.add_argument(
        "--worker-address",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="also route to this already running worker (any language)",
    )
    up.add_argument("--http-port", type=int)
    up.add_argument("--grpc-port", type=int)
    up.add_argument("--admin-port", type=int)

    worker = command("worker", "serve the procedures of one Worker over gRPC")
    worker.add_argument("target", help="module, module:attr or path/to/file.py[:attr] (attr: worker)")
    worker.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT")
    worker.add_argument("--metrics-port", type=int, help="serve Prometheus /metrics on this port (0: any)")
    worker.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)

    legacy = command("legacy", "serve the methods of an XML-RPC or JSON-RPC server as a worker")
    legacy.add_argument("--upstream", required=True, metavar="URL", help="the server to forward to")
    legacy.add_argument("--protocol", choices=PROTOCOLS, default="xmlrpc")
    legacy.add_argument("--prefix", default="", metavar="NAME.", help="put before every upstream name")
    legacy.add_argument("--auth-user", metavar="USER", help="add rpcenable auth params as this user")
    legacy.add_argument(
        "--auth-key-env", metavar="VARIABLE", help="environment variable holding that user's API key"
    )
    legacy.add_argument(
        "--method",
        action="append",
        dest="methods",
        metavar="NAME",
        help="forward this upstream method (repeatable); default: ask system.listMethods",
    )
    legacy.add_argument("--timeout", type=float, metavar="SECONDS", help="for each upstream call")
    legacy.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT")
    legacy.add_argument(
        "--sidecar", dest="sidecar_target", metavar="HOST:PORT", help="where outgoing calls are logged"
    )
    legacy.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)

    sidecar = command("sidecar", "serve the gRPC proxy, catalogue and admin site")
    sidecar.add_argument(
        "--worker",
        action="append",
        dest="workers",
        metavar="HOST:PORT",
        help="a worker address; a name (or dns:///NAME:PORT) means every address it resolves to",
    )
    sidecar.add_argument("--grpc-port", type=int)
    sidecar.add_argument("--admin-port", type=int)
    sidecar.add_argument("--metrics-port", type=int, help="serve Prometheus /metrics on this port (0: any)")
    sidecar.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)

    frontend = command("frontend", "serve XML-RPC and JSON-RPC over HTTP")
    frontend.add_argument(
        "--sidecar",
        action="append",
        dest="sidecars",
        metavar="HOST:PORT",
        help="a sidecar to send calls to (repeat for several: calls spread over those up)",
    )
    frontend.add_argument("--http-port", type=int)
    frontend.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)
    conformance = command("conformance", "check a worker, in any language, against the rpcbridge contract")
    conformance.add_argument("target", metavar="HOST:PORT", help="the worker's address")
    conformance.add_argument("--secret", help="the sidecar's proof (default: the worker_secret setting)")
    conformance.add_argument(
        "--echo", default="echo", metavar="NAME", help="procedure returning its argument"
    )
    conformance.add_argument("--sleep", default="slow.sleep", metavar="NAME", help="procedure sleeping N s")
    add_user_commands(commands, common)
    try:
        from bridge.webhook_commands import add_webhook_commands
    except ImportError:  # a light (worker-only) install has no store, so no `webhooks` command
        pass
    else:
        add_webhook_commands(commands, common)
    return parser


_SETTING_FLAGS = (
    "data_dir",
    "http_port",
    "grpc_port",
    "admin_port",
    "workers",
    "sidecar_target",
    "sidecars",
    "database_url",
    "redis_url",
    "metrics_port",
)


def _upstream_config(args: argparse.Namespace, settings: Settings) -> UpstreamConfig:
    """The legacy adapter's upstream from its flags and settings (`--method` overrides `legacy_methods`)."""
    auth_key = ""
    if args.auth_user or args.auth_key_env:
        if not (args.auth_user and args.auth_key_env):
            raise ConfigError("--auth-user and --auth-key-env go together")
        auth_key = secret_from_environment(args.auth_key_env)
    methods = args.methods or settings.legacy_methods
    return UpstreamConfig(
        url=args.upstream,
        protocol=args.protocol,
        prefix=args.prefix,
        auth_user=args.auth_user or "",
        auth_key=auth_key,
        methods=tuple(methods),
        timeout=args.timeout if args.timeout is not None else settings.default_timeout,
        sidecar=settings.sidecar_address if settings.log_outgoing else "",
        log_arguments=settings.log_arguments,
    )


def _run(main: Coroutine[Any, Any, int | None]) -> int:
    """Run a role until it ends or SIGINT/SIGTERM cancels it (then it stops gracefully)."""

    async def guarded() -> int | None:
        task = asyncio.ensure_future(main)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        try:
            return await task
        except asyncio.CancelledError:
            return 0

    return asyncio.run(guarded()) or 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rpcbridge` console script."""
    args = _parser().parse_args(argv)
    flags = {name: getattr(args, name, None) for name in _SETTING_FLAGS}
    try:
        settings: Settings = load_settings(args.config, flags)
        configure_logging(settings.log_level, args.command, settings.log_format)
        configure_tracing(settings.otel_endpoint, f"rpcbridge-{args.command}")
        if args.command == "up":
            return asyncio.run(run_up(settings, args.config, args.worker, args.legacy, args.worker_address))
        if args.command == "conformance":
            from bridge.conformance import run_conformance

            secret = settings.worker_secret if args.secret is None else args.secret
            tls = settings.worker_tls
            return asyncio.run(run_conformance(args.target, secret, tls, args.echo, args.sleep))
        if args.command in ("users", "admin", "db"):
            return asyncio.run(run_user_command(settings, args))
        if args.command == "webhooks":
            from bridge.webhook_commands import run_webhook_command

            return asyncio.run(run_webhook_command(settings, args))
        # Roles are imported on demand: a worker process never loads aiohttp, a frontend never
        # loads the stores.
        if args.command == "worker":
            from bridge.worker_main import run_worker

            return _run(run_worker(settings, args.target, args.listen, args.ready_file))
        if args.command == "legacy":
            from bridge.legacy.main import run_legacy

            upstream = _upstream_config(args, settings)
            return _run(run_legacy(settings, upstream, args.listen, args.ready_file))
        if args.command == "sidecar":
            from bridge.sidecar.main import run_sidecar

            return _run(run_sidecar(settings, args.ready_file))
        from bridge.frontend.main import run_frontend

        return _run(run_frontend(settings, args.ready_file))
    except ConfigError as exc:
        print(f"rpcbridge: error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        # An unmigrated schema (auto_migrate = false) or an unreachable database, said plainly.
        print(f"rpcbridge: error: {exc}", file=sys.stderr)
        return 1
