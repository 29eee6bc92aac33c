"""Settings: unknown names and bad values fail clearly at start, secrets stay out of repr, one Limits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.errors import ConfigError
from bridge.settings import FrontendSettings, Limits, Settings, load_settings


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rpcbridge.toml"
    path.write_text(text)
    return path


def test_unknown_key_in_file_names_the_nearest_setting(tmp_path: Path) -> None:
    """A typo in the TOML file is an error with a suggestion, not a silent fall-back to SQLite."""
    config = _config(tmp_path, 'databse_url = "postgresql://db/x"\n')
    with pytest.raises(ConfigError, match=r"unknown setting 'databse_url' \(did you mean 'database_url'\?\)"):
        load_settings(config, environ={})


def test_unknown_key_under_rpcbridge_table(tmp_path: Path) -> None:
    """Keys under [rpcbridge] are checked the same way."""
    config = _config(tmp_path, "[rpcbridge]\nmax_body_byte = 10\n")
    with pytest.raises(ConfigError, match=r"did you mean 'max_body_bytes'"):
        load_settings(config, environ={})


def test_unknown_environment_variable_names_the_nearest_setting() -> None:
    """An RPCBRIDGE_* variable that is no setting is an error naming it and the nearest one."""
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"RPCBRIDGE_WORKER_SECRT": "s"})
    assert str(raised.value) == (
        "environment variable RPCBRIDGE_WORKER_SECRT: unknown setting 'worker_secrt'"
        " (did you mean 'worker_secret'?)"
    )


def test_unknown_name_far_from_every_setting_has_no_suggestion() -> None:
    """No suggestion is invented when nothing is close."""
    with pytest.raises(ConfigError, match=r"unknown setting 'zzz'$"):
        load_settings(environ={"RPCBRIDGE_ZZZ": "1"})


def test_test_suite_variables_and_other_prefixes_are_left_alone() -> None:
    """RPCBRIDGE_TEST_* (the test suite's own) and variables without the prefix are no settings."""
    settings = load_settings(environ={"RPCBRIDGE_TEST_POSTGRES_URL": "postgresql://x", "HOME": "/root"})
    assert settings == Settings()


def test_limits_exist_once_and_load_from_flat_keys(tmp_path: Path) -> None:
    """max_* keys in file and environment fill the one Limits object the codecs receive."""
    config = _config(tmp_path, "max_depth = 7\nmax_batch = 3\n")
    settings = load_settings(config, environ={"RPCBRIDGE_MAX_BODY_BYTES": "2048"})
    assert settings.limits == Limits(max_body_bytes=2048, max_depth=7, max_batch=3)
    assert settings.frontend.limits is settings.limits
    assert not hasattr(settings, "max_body_bytes")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("RPCBRIDGE_LOG_LEVEL", "verbose", "log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("RPCBRIDGE_HTTP_PORT", "eighty", "setting 'http_port': cannot use 'eighty'"),
        ("RPCBRIDGE_MAX_DEPTH", "0", "max_depth must be at least 1"),
        ("RPCBRIDGE_STREAM_CALLS", "maybe", "setting 'stream_calls': cannot use 'maybe'"),
    ],
)
def test_bad_values_are_config_errors(variable: str, value: str, message: str) -> None:
    """A value of the wrong kind or out of range is a ConfigError saying which setting."""
    with pytest.raises(ConfigError, match=message):
        load_settings(environ={variable: value})


def test_log_level_is_case_insensitive() -> None:
    """`debug` is as good as `DEBUG`."""
    assert load_settings(environ={"RPCBRIDGE_LOG_LEVEL": "debug"}).log_level == "debug"


def test_repr_hides_secrets_and_url_passwords() -> None:
    """repr(settings) (as in a log line or a traceback) shows no secret."""
    settings = Settings(
        worker_secret="s3cret-token",
        key_encryption_key="fernet-key-material",
        database_url="postgresql://app:hunter2@db.example:5432/rpc",
        redis_url="redis://:redispass@cache:6379/0",
        smtp_url="smtp://alerts:mailpass@smtp.example:587?starttls=true",
    )
    shown = repr(settings)
    for secret in ("s3cret-token", "fernet-key-material", "hunter2", "redispass", "mailpass"):
        assert secret not in shown
    assert "postgresql://app:***@db.example:5432/rpc" in shown
    assert "redis://:***@cache:6379/0" in shown
    assert "smtp://alerts:***@smtp.example:587?starttls=true" in shown
    assert "worker_secret='***'" in shown
    assert "http_port=8080" in shown


def test_repr_keeps_urls_without_password() -> None:
    """A URL with no password is shown as it is."""
    assert "redis://cache:6379/0" in repr(Settings(redis_url="redis://cache:6379/0"))


@pytest.mark.parametrize("text", ['legacy_methods = ["add", "sub"]\n', 'legacy_methods = "add, sub"\n'])
def test_legacy_methods_is_a_setting(tmp_path: Path, text: str) -> None:
    """legacy_methods is read as a TOML list or one comma-separated string."""
    assert load_settings(_config(tmp_path, text), environ={}).legacy_methods == ("add", "sub")


def test_legacy_methods_must_be_names(tmp_path: Path) -> None:
    """A list holding anything but strings is refused."""
    with pytest.raises(ConfigError, match="legacy_methods"):
        load_settings(_config(tmp_path, "legacy_methods = [1, 2]\n"), environ={})


def test_frontend_view_holds_only_what_the_frontend_uses() -> None:
    """The frontend receives no secret, no store URL and no worker address."""
    fields = set(FrontendSettings.__dataclass_fields__)
    assert fields == {
        "http_host",
        "http_port",
        "sidecar_addresses",
        "stream_calls",
        "limits",
        "http_header_timeout",
        "http_body_timeout",
        "default_timeout",
        "max_timeout",
        "pickle_enabled",
        "trusted_proxies",
        "websocket",
    }
    settings = Settings(sidecar_target="sidecar:9000", pickle_enabled=True, ws_send_queue=7)
    assert settings.frontend.sidecar_addresses == ("sidecar:9000",)
    assert settings.frontend.pickle_enabled
    assert settings.frontend.websocket.send_queue == 7


@pytest.mark.parametrize(
    "bad",
    [
        {"ws_send_queue": 0},
        {"ws_max_subscriptions": 0},
        {"ws_idle_seconds": 0},
        {"ws_credentials_poll_seconds": 2.0},
        {"frontend_public_url": "ftp://x"},
    ],
)
def test_websocket_settings_are_checked(bad: dict[str, object]) -> None:
    """WebSocket bounds must be positive, and credential polling fast enough for the 2 s promise."""
    with pytest.raises(ConfigError):
        Settings(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("command", [["up"], ["sidecar"], ["frontend"], ["worker", "no_such_module"]])
def test_cli_reports_a_bad_value_in_one_line(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`rpcbridge <role>` with RPCBRIDGE_LOG_LEVEL=verbose prints one line to stderr and exits 2."""
    monkeypatch.setenv("RPCBRIDGE_LOG_LEVEL", "verbose")
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("rpcbridge: error: log_level must be one of")


def test_cli_reports_an_unknown_key_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A typo in the config file stops `rpcbridge sidecar` with the suggestion, exit status 2."""
    config = _config(tmp_path, 'databse_url = "postgresql://db/x"\n')
    assert main(["sidecar", "--config", str(config)]) == 2
    assert "(did you mean 'database_url'?)" in capsys.readouterr().err


def test_console_script_prints_no_traceback(tmp_path: Path) -> None:
    """The real process (python -m bridge up) exits 2 with one line, no traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "up"],
        env={"RPCBRIDGE_LOG_LEVEL": "verbose", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("rpcbridge: error: log_level") and done.stderr.count("\n") == 1
