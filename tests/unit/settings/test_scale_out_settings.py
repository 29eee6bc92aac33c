"""Scale-out settings: the refused empty worker secret, store URL flags, sidecar lists, proxies,
the admin session key and the PostgreSQL-without-Redis refusal."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.errors import ConfigError
from bridge.settings import Settings, load_settings
from bridge.sidecar.shared_state import GENERATED_KEY_FILE, admin_session_key, require_shared_nonces


def test_an_empty_worker_secret_is_refused_unless_insecure_is_chosen(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No secret and no mTLS: a ConfigError; with worker_insecure the empty secret is logged as a WARNING."""
    with pytest.raises(ConfigError, match="worker_secret is empty"):
        Settings().checked_worker_secret()
    assert Settings(worker_secret="s3cret").checked_worker_secret() == "s3cret"
    with caplog.at_level(logging.WARNING, logger="rpcbridge"):
        assert Settings(worker_insecure=True).checked_worker_secret() == ""
    assert "worker_insecure" in caplog.text


def test_cli_refuses_a_worker_without_secret_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`rpcbridge worker` with an empty secret exits 2 with one line saying what to set."""
    monkeypatch.setenv("RPCBRIDGE_WORKER_SECRET", "")
    assert main(["worker", "examples/example_worker.py", "--listen", "127.0.0.1:0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "worker_insecure" in err


def test_store_urls_and_sidecars_as_flags() -> None:
    """--database-url, --redis-url and repeated --sidecar land in the settings (flags win)."""
    flags = {"database_url": "postgresql://db/x", "redis_url": "redis://r:6379/0", "sidecars": ["a:1", "b:2"]}
    settings = load_settings(None, flags, environ={"RPCBRIDGE_DATABASE_URL": "postgresql://other/y"})
    assert (settings.database_url, settings.redis_url) == ("postgresql://db/x", "redis://r:6379/0")
    assert settings.frontend.sidecar_addresses == ("a:1", "b:2")
    assert Settings(grpc_port=7).frontend.sidecar_addresses == ("127.0.0.1:7",)


def test_trusted_proxies_must_be_networks() -> None:
    """A value that is no address or CIDR is refused when settings load."""
    assert load_settings(
        None, {}, environ={"RPCBRIDGE_TRUSTED_PROXIES": "10.0.0.0/8,::1"}
    ).trusted_proxies == (
        "10.0.0.0/8",
        "::1",
    )
    with pytest.raises(ConfigError, match="trusted_proxies"):
        Settings(trusted_proxies=("10.0.0.0/33",))


def test_shared_postgres_without_redis_is_refused() -> None:
    """DESIGN.md Scale-out: PostgreSQL but no Redis would let replays pass between sidecars."""
    with pytest.raises(ConfigError, match="redis_url"):
        require_shared_nonces(Settings(database_url="postgresql://db/x"))
    require_shared_nonces(Settings(database_url="postgresql://db/x", redis_url="redis://r/0"))
    require_shared_nonces(Settings())


def test_admin_session_key_configured_from_file_or_generated_once(tmp_path: Path) -> None:
    """The key comes from the setting, from its file, or is generated into the data dir and reused."""
    assert admin_session_key(Settings(admin_session_key="k" * 32)) == b"k" * 32
    key_file = tmp_path / "key"
    key_file.write_text("f" * 40 + "\n")
    assert admin_session_key(Settings(admin_session_key_file=str(key_file))) == b"f" * 40
    generated = admin_session_key(Settings(data_dir=tmp_path / "data"))
    assert len(generated) >= 32
    assert admin_session_key(Settings(data_dir=tmp_path / "data")) == generated
    assert (tmp_path / "data" / GENERATED_KEY_FILE).stat().st_mode & 0o077 == 0
    with pytest.raises(ConfigError, match="32 bytes"):
        admin_session_key(Settings(admin_session_key="short"))
    with pytest.raises(ConfigError, match="not both"):
        admin_session_key(Settings(admin_session_key="k" * 32, admin_session_key_file=str(key_file)))


def test_the_admin_session_key_is_masked_in_repr() -> None:
    """The session key is a secret: repr(settings) never shows it."""
    assert "k" * 32 not in repr(Settings(admin_session_key="k" * 32))
