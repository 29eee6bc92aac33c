"""The `rpcbridge` command: parses arguments, builds settings once, runs one role.

Subcommands: `up`, `worker`, `sidecar`, `frontend`.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from bridge.errors import ConfigError
from bridge.observability import configure_logging
from bridge.settings import Settings, load_settings
from bridge.supervisor import run_up
from bridge.user_commands import add_user_commands, run_user_command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rpcbridge", description="XML-RPC / JSON-RPC / gRPC bridge")
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML settings file")
    common.add_argument("--data-dir", type=Path, help="where the embedded stores live")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, parents=[common])

    up = command("up", "start sidecar, frontend and workers as one local deployment")
    up.add_argument(
        "--worker", action="append", default=[], metavar="TARGET", help="module[:attr] or file.py[:attr]"
    )
    up.add_argument("--http-port", type=int)
    up.add_argument("--grpc-port", type=int)
    up.add_argument("--admin-port", type=int)

    worker = command("worker", "serve the procedures of one Worker over gRPC")
    worker.add_argument("target", help="module, module:attr or path/to/file.py[:attr] (attr: worker)")
    worker.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT")
    worker.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)

    sidecar = command("sidecar", "serve the gRPC proxy, catalogue and admin site")
    sidecar.add_argument(
        "--worker", action="append", dest="workers", metavar="HOST:PORT", help="a worker address"
    )
    sidecar.add_argument("--grpc-port", type=int)
    sidecar.add_argument("--admin-port", type=int)
    sidecar.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)

    frontend = command("frontend", "serve XML-RPC and JSON-RPC over HTTP")
    frontend.add_argument("--sidecar", dest="sidecar_target", metavar="HOST:PORT")
    frontend.add_argument("--http-port", type=int)
    frontend.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)
    add_user_commands(commands, common)
    return parser


_SETTING_FLAGS = ("data_dir", "http_port", "grpc_port", "admin_port", "workers", "sidecar_target")


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
        configure_logging(settings.log_level, args.command)
        if args.command == "up":
            return asyncio.run(run_up(settings, args.config, args.worker))
        if args.command in ("users", "admin"):
            return asyncio.run(run_user_command(settings, args))
        # Roles are imported on demand: a worker process never loads aiohttp, a frontend never
        # loads the stores.
        from bridge import roles

        if args.command == "worker":
            return _run(roles.run_worker(settings, args.target, args.listen, args.ready_file))
        if args.command == "sidecar":
            return _run(roles.run_sidecar(settings, args.ready_file))
        return _run(roles.run_frontend(settings, args.ready_file))
    except ConfigError as exc:
        print(f"rpcbridge: error: {exc}", file=sys.stderr)
        return 2
