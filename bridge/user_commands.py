"""`rpcbridge users ...`, `admin set-password` and `db migrate`: operators' commands on the store.

They work on the same store as the sidecar (`--data-dir` / `--config` / `database_url`), and a
running sidecar sees every change at once: it reads users and keys from the store on each check.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from bridge.auth.passwords import hash_password
from bridge.errors import ConfigError
from bridge.settings import Settings
from bridge.store.interfaces import StoreError

MIN_PASSWORD_LENGTH = 8


def add_user_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register `users` and `admin` with their subcommands."""
    users = commands.add_parser("users", help="manage API users and their keys", parents=[common])
    actions = users.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create a user and print its API key (shown once)", parents=[common])
    add.add_argument("name")
    add.add_argument("--key", help="use this key instead of a generated one")
    add.add_argument(
        "--scope", action="append", default=[], help="allowed procedure pattern (fnmatch); repeatable"
    )
    actions.add_parser("list", help="list users", parents=[common])
    for action, text in (
        ("disable", "refuse the user's calls"),
        ("enable", "accept the user's calls again"),
        ("rotate-key", "add a new key and print it; older keys stay valid until revoke-old-keys"),
        ("revoke-old-keys", "keep only the newest key"),
        ("delete", "remove the user and its keys (past call-log rows keep the name)"),
    ):
        actions.add_parser(action, help=text, parents=[common]).add_argument("name")
    set_scopes = actions.add_parser(
        "set-scopes", help="replace the user's procedure patterns ('*' allows every one)", parents=[common]
    )
    set_scopes.add_argument("name")
    set_scopes.add_argument("scopes", nargs="+", metavar="SCOPE", help="procedure pattern (fnmatch)")
    database = commands.add_parser("db", help="the database schema", parents=[common])
    database_actions = database.add_subparsers(dest="action", required=True)
    database_actions.add_parser(
        "migrate", help="bring the schema up to date (for auto_migrate = false)", parents=[common]
    )
    admin = commands.add_parser("admin", help="the admin web UI's login", parents=[common])
    admin_actions = admin.add_subparsers(dest="action", required=True)
    admin_actions.add_parser(
        "set-password",
        help="set the admin password (read from stdin when it is not a terminal)",
        parents=[common],
    )


async def run_user_command(
    settings: Settings, args: argparse.Namespace, say: Callable[[str], None] = print
) -> int:
    """Carry out one `users`, `admin` or `db` action; returns the exit status."""
    # Imported here: `rpcbridge worker` parses these commands too, and must not need the database
    # drivers, which come with the `server` extra.
    from bridge.store.factory import open_stores

    if args.command == "db":
        return await _migrate(settings, say)
    password = _read_password() if args.command == "admin" else ""
    # The users commands migrate as the sidecar does: only when auto_migrate allows it.
    stores = await open_stores(settings)
    try:
        if args.command == "admin":
            await stores.admin.set_password_hash(hash_password(password))
            say("admin password set")
            return 0
        users = stores.users
        if args.action == "add":
            key = await users.add_user(args.name, args.key, args.scope)
            say(key)
        elif args.action == "list":
            for user in await users.list_users():
                state = "enabled" if user.enabled else "disabled"
                scopes = ",".join(user.scopes) or "*"
                say(f"{user.username}\t{state}\tscopes={scopes}\tcreated={user.created_at:%Y-%m-%d %H:%M:%S}")
        elif args.action in ("disable", "enable"):
            await users.set_enabled(args.name, args.action == "enable")
            say(f"{args.name} {args.action}d")
        elif args.action == "rotate-key":
            say(await users.rotate_key(args.name))
        elif args.action == "set-scopes":
            await users.set_scopes(args.name, args.scopes)
            say(f"{args.name} scopes={','.join(args.scopes)}")
        elif args.action == "delete":
            await users.delete_user(args.name)
            say(f"{args.name} deleted")
        else:
            revoked = await users.revoke_keys(args.name, keep_newest=1)
            say(f"{args.name}: {revoked} older keys revoked")
        return 0
    except StoreError as exc:
        print(f"rpcbridge: error: {exc}", file=sys.stderr)
        return 1
    finally:
        await stores.close()


async def _migrate(settings: Settings, say: Callable[[str], None]) -> int:
    from bridge.store.factory import connect_database
    from bridge.store.migrations import apply_migrations, latest_version

    db = await connect_database(settings.database)
    try:
        applied = await apply_migrations(db)
    except StoreError as exc:
        print(f"rpcbridge: error: {exc}", file=sys.stderr)
        return 1
    finally:
        await db.close()
    done = f"applied {', '.join(map(str, applied))}" if applied else "nothing to apply"
    say(f"schema at version {latest_version(db.dialect)}: {done}")
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("New admin password: ")
        if getpass.getpass("Again: ") != password:
            raise ConfigError("the passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"the admin password must have at least {MIN_PASSWORD_LENGTH} characters")
    return password
