"""`rpcbridge webhooks`: listeners added, listed, changed, removed by command; malformed input refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def webhooks(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `rpcbridge webhooks ARGS` on a data directory."""
    return subprocess.run(
        [sys.executable, "-m", "bridge", "webhooks", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_add_list_rotate_disable_remove(tmp_path: Path) -> None:
    """add prints the id and secret once (or one JSON object); the listener can be listed and changed."""
    added = webhooks(
        tmp_path,
        "add",
        "https://example.com/hook",
        "--event",
        "person.saved",
        "--match",
        '{"name": {"startswith": "Jo"}}',
    )
    assert added.returncode == 0, added.stderr
    listener_id, secret = added.stdout.split()
    assert listener_id.startswith("lst_") and secret.startswith("whsec_")
    as_json = json.loads(webhooks(tmp_path, "add", "https://example.com/other", "--json").stdout)
    assert set(as_json) == {"id", "secret"} and as_json["secret"].startswith("whsec_")
    listed = webhooks(tmp_path, "list").stdout
    assert f"{listener_id}\tenabled\thttps://example.com/hook\tevents=person.saved" in listed
    assert 'match={"name":{"startswith":"Jo"}}' in listed and secret not in listed
    rotated = webhooks(tmp_path, "rotate-secret", listener_id).stdout.strip()
    assert rotated.startswith("whsec_") and rotated != secret
    assert webhooks(tmp_path, "disable", listener_id).stdout.strip() == f"{listener_id} disabled"
    assert "disabled (disabled by hand)" in webhooks(tmp_path, "list").stdout
    assert webhooks(tmp_path, "remove", as_json["id"]).returncode == 0
    assert as_json["id"] not in webhooks(tmp_path, "list").stdout
    assert webhooks(tmp_path, "deliveries", listener_id, "--failed").stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "http://example.com/"], "http needs webhook_allow_http"),
        (["add", "https://127.0.0.1/"], "loopback"),
        (["add", "https://0x7f000001/"], "loopback"),
        (["add", "https://[::ffff:169.254.169.254]/"], "link-local"),
        (["add", "https://user:pw@example.com/"], "refused"),
        (
            ["add", "https://example.com/", "--match", '{"name": {"startwith": "Jo"}}'],
            "unknown operator 'startwith'",
        ),
        (["add", "https://example.com/", "--match", '{"name": {"like": "(a"}}'], "not an RE2 pattern"),
        (["add", "https://example.com/", "--match", "[1]"], "a filter is a JSON object"),
        (["add", "https://example.com/", "--match", "{"], "the filter is not JSON"),
        (["add", "https://example.com/", "--event", "bad type"], "is not an event type"),
        (
            ["add", "https://example.com/", "--event", "*", "--event", "a"],
            "'*' already takes every event type",
        ),
        (["add", "https://example.com/", "--owner", "nobody"], "no API user 'nobody'"),
        (["add", "mailto:ops@example.com?subject=hi"], "no ?headers"),
        (["add", "mailto:not-an-address"], "not a plain e-mail address"),
        (["enable", "lst_nope"], "no listener 'lst_nope'"),
        (["redeliver", "dlv_nope"], "no delivery 'dlv_nope'"),
        (["redeliver", "--listener", "lst_nope"], "--listener ID and --since TIME"),
        (["redeliver", "--listener", "lst_nope", "--since", "yesterday"], "no listener"),
    ],
)
def test_bad_input_is_refused_with_one_clear_line(tmp_path: Path, args: list[str], message: str) -> None:
    """Each malformed listener or command is refused with exit status 2 and one line naming the problem."""
    refused = webhooks(tmp_path, *args)
    assert refused.returncode == 2
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("rpcbridge: error: ") and message in line
    assert webhooks(tmp_path, "list").stdout == ""


def test_mailto_listener_is_added_and_listed(tmp_path: Path) -> None:
    """The operator adds a mailto: listener like any other; it is stored in its plain form."""
    added = webhooks(tmp_path, "add", "MAILTO:ops@example.com,%20oncall@example.com", "--event", "job.failed")
    assert added.returncode == 0, added.stderr
    listed = webhooks(tmp_path, "list").stdout
    assert "\tmailto:ops@example.com,oncall@example.com\tevents=job.failed" in listed
