"""`rpcbridge webhooks ...`: add, list, enable, disable, rotate and remove webhook listeners, read
their delivery logs, and redeliver.

Works on the same store as the sidecar (`--data-dir` / `--config` / `database_url`); a running
sidecar sees a new or changed listener with the next event it commits. docs/events.md describes it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from bridge.errors import ConfigError
from bridge.events.webhook_signing import new_secret
from bridge.settings import Settings
from bridge.sidecar.listener_input import InvalidListener, check_listener, parse_match
from bridge.sidecar.webhook_targets import WebhookPolicy
from bridge.store.database import utc_now
from bridge.store.interfaces import StoreError
from bridge.store.webhook_records import ADMIN_OWNER, Listener

if TYPE_CHECKING:
    from bridge.store.factory import Stores


def add_webhook_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register `webhooks` with its subcommands."""
    webhooks = commands.add_parser(
        "webhooks", help="manage webhook listeners and deliveries", parents=[common]
    )
    actions = webhooks.add_subparsers(dest="action", required=True)
    add = actions.add_parser(
        "add", help="add a listener and print its id and signing secret (shown once)", parents=[common]
    )
    add.add_argument("url")
    add.add_argument(
        "--event",
        action="append",
        default=[],
        metavar="TYPE",
        help="event type to deliver (repeatable; default *)",
    )
    add.add_argument(
        "--match", default="{}", metavar="JSON", help='filter, e.g. {"name": {"startswith": "Jo"}}'
    )
    add.add_argument("--owner", default=ADMIN_OWNER, metavar="USER", help="an API user (default: admin)")
    add.add_argument("--json", action="store_true", help='print {"id": ..., "secret": ...}')
    actions.add_parser("list", help="list listeners", parents=[common])
    for action, text in (
        ("remove", "delete a listener and its delivery log"),
        ("enable", "deliver to a listener again (clears its failure streak)"),
        ("disable", "stop delivering to a listener"),
        ("rotate-secret", "print a new secret; the old one keeps signing for webhook_secret_overlap"),
    ):
        actions.add_parser(action, help=text, parents=[common]).add_argument("id")
    deliveries = actions.add_parser("deliveries", help="the delivery log, newest first", parents=[common])
    deliveries.add_argument("id", nargs="?", help="only this listener's deliveries")
    deliveries.add_argument("--failed", action="store_true", help="only failed deliveries")
    redeliver = actions.add_parser(
        "redeliver",
        help="queue a delivery, or a listener's failed ones since a time, again",
        parents=[common],
    )
    redeliver.add_argument("delivery_id", nargs="?")
    redeliver.add_argument("--listener", metavar="ID")
    redeliver.add_argument("--since", metavar="TIME", help="ISO 8601; without an offset, UTC")


def _since(text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--since {text!r} is not an ISO 8601 time such as 2026-12-01T15:00:00Z") from None
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=datetime.UTC)


def _describe(listener: Listener) -> str:
    state = "enabled" if listener.enabled else f"disabled ({listener.disabled_reason})"
    events = ",".join(listener.event_types)
    match = json.dumps(dict(listener.filter), separators=(",", ":"))
    return f"{listener.id}\t{state}\t{listener.url}\tevents={events}\tmatch={match}\towner={listener.owner}"


async def run_webhook_command(
    settings: Settings, args: argparse.Namespace, say: Callable[[str], None] = print
) -> int:
    """Carry out one `webhooks` action; returns the exit status (2 for refused input, as other commands)."""
    from bridge.store.factory import open_stores  # server packages: not for `rpcbridge --version`

    policy = WebhookPolicy.from_settings(settings.webhook_allow_http, settings.webhook_allow_networks)
    stores = await open_stores(settings)
    try:
        return await _run(stores, settings, policy, args, say)
    except InvalidListener as exc:
        print(f"rpcbridge: error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"rpcbridge: error: {exc}", file=sys.stderr)
        return 1
    finally:
        await stores.close()


async def _run(
    stores: Stores,
    settings: Settings,
    policy: WebhookPolicy,
    args: argparse.Namespace,
    say: Callable[[str], None],
) -> int:
    listeners = stores.listeners
    action = args.action
    if action == "add":
        if args.owner != ADMIN_OWNER and await stores.users.get(args.owner) is None:
            raise InvalidListener(f"no API user {args.owner!r} (the owner is an API user or admin)")
        listener = check_listener(
            args.url, args.event, parse_match(args.match), args.owner, policy, utc_now()
        )
        await listeners.add(listener)
        secret = listener.secrets[0].secret
        say(json.dumps({"id": listener.id, "secret": secret}) if args.json else f"{listener.id}\n{secret}")
    elif action == "list":
        for listener in await listeners.list_listeners():
            say(_describe(listener))
    elif action == "deliveries":
        for delivery in await listeners.deliveries(args.id, failed_only=args.failed):
            say(
                f"{delivery.id}\t{delivery.state}\t{delivery.event_type}\tevent={delivery.event_id}"
                f"\tlistener={delivery.listener_id}\tattempts={delivery.attempts}"
                f"\tcreated={delivery.created_at:%Y-%m-%d %H:%M:%S}"
            )
            for attempt in await listeners.attempts(delivery.id):
                outcome = str(attempt.status) if attempt.status is not None else attempt.error
                say(f"  {attempt.attempted_at:%Y-%m-%d %H:%M:%S}\t{outcome}\t{attempt.duration_ms:.0f} ms")
    elif action == "redeliver":
        return await _redeliver(stores, args, say)
    else:
        return await _change(stores, settings, args, say)
    return 0


async def _change(
    stores: Stores, settings: Settings, args: argparse.Namespace, say: Callable[[str], None]
) -> int:
    """remove, enable, disable, rotate-secret: one listener by id."""
    listeners = stores.listeners
    if args.action == "rotate-secret":
        secret = new_secret()
        done = await listeners.rotate_secret(args.id, secret, settings.webhook_secret_overlap)
        if done:
            say(secret)
    elif args.action == "remove":
        done = await listeners.remove(args.id)
    else:
        done = await listeners.set_enabled(args.id, args.action == "enable")
    if not done:
        raise InvalidListener(f"no listener {args.id!r}")
    if args.action != "rotate-secret":
        say(f"{args.id} {args.action}d")
    return 0


async def _redeliver(stores: Stores, args: argparse.Namespace, say: Callable[[str], None]) -> int:
    """One delivery by id, or a listener's failed deliveries since a time."""
    if args.delivery_id is not None:
        if args.listener or args.since:
            raise InvalidListener("give a delivery id, or --listener and --since, not both")
        if not await stores.listeners.redeliver(args.delivery_id):
            raise InvalidListener(f"no delivery {args.delivery_id!r}")
        say(f"{args.delivery_id} queued")
        return 0
    if not (args.listener and args.since):
        raise InvalidListener("give a delivery id, or --listener ID and --since TIME")
    if await stores.listeners.get(args.listener) is None:
        raise InvalidListener(f"no listener {args.listener!r}")
    count = await stores.listeners.redeliver_failed_since(args.listener, _since(args.since))
    say(f"{count} failed deliveries queued")
    return 0
