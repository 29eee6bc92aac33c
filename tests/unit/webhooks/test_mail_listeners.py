"""mailto: listener addresses, the smtp_url setting and the mail an event becomes: pure checks."""

from __future__ import annotations

import datetime

import pytest

from bridge.errors import ConfigError
from bridge.events.model import Event
from bridge.sidecar.listener_input import InvalidListener, check_listener
from bridge.sidecar.mail_sender import InvalidMailto, MailServer, compose_mail, parse_mailto
from bridge.sidecar.webhook_targets import WebhookPolicy

NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


def test_mailto_names_one_or_more_plain_addresses() -> None:
    """Comma-separated addresses (percent-escapes read) are the recipients; the scheme's case is free."""
    assert parse_mailto("mailto:ops@example.com") == ("ops@example.com",)
    assert parse_mailto("MAILTO:a@example.com,%20b.c+tag@mail.example.org") == (
        "a@example.com",
        "b.c+tag@mail.example.org",
    )


@pytest.mark.parametrize(
    "url",
    [
        "mailto:",
        "mailto:ops",
        "mailto:ops@example.com?subject=hi",
        "mailto:ops@example.com%0d%0aBcc:evil@example.com",
        'mailto:"quoted"@example.com',
        "mailto:ops@example.com,",
        "mailto:" + ",".join(f"u{i}@example.com" for i in range(11)),
        "mailto:" + "a" * 250 + "@example.com",
        "https://example.com/",
    ],
)
def test_mailto_refuses_headers_injection_and_odd_addresses(url: str) -> None:
    """No ?headers, no CR/LF (escaped or not), no quoting, at most 10 addresses of at most 254 characters."""
    with pytest.raises(InvalidMailto):
        parse_mailto(url)


def test_check_listener_stores_mailto_plainly_and_only_where_allowed() -> None:
    """The operator may add mailto: listeners (stored in plain form); API users only when allowed."""
    policy = WebhookPolicy()
    listener = check_listener("MailTo:ops@example.com", ["job.failed"], {}, "admin", policy, NOW)
    assert listener.url == "mailto:ops@example.com"
    with pytest.raises(InvalidListener, match="webhook_allow_mailto"):
        check_listener("mailto:ops@example.com", [], {}, "alice", policy, NOW, allow_mailto=False)
    with pytest.raises(InvalidListener, match="mail address is refused"):
        check_listener("mailto:ops@example.com?cc=x@example.com", [], {}, "admin", policy, NOW)


def test_smtp_url_forms() -> None:
    """smtp:// (port 25, STARTTLS on request), smtps:// (465); user and password are URL-decoded."""
    plain = MailServer.from_settings("smtp://mail.example.com", "bridge@example.com")
    assert plain is not None and (plain.port, plain.starttls, plain.implicit_tls) == (25, False, False)
    tls = MailServer.from_settings("smtp://u%40x:p%2Fw@mail.example.com:587?starttls=true", "b@example.com")
    assert tls is not None
    assert (tls.port, tls.starttls, tls.username, tls.password) == (587, True, "u@x", "p/w")
    assert "p/w" not in repr(tls)
    implicit = MailServer.from_settings("smtps://mail.example.com", "b@example.com")
    assert implicit is not None and (implicit.port, implicit.implicit_tls) == (465, True)
    assert MailServer.from_settings("", "b@example.com") is None


@pytest.mark.parametrize(
    ("url", "sender", "message"),
    [
        ("http://mail.example.com", "b@example.com", "smtp_url is"),
        ("smtp://u:secret@mail.example.com", "b@example.com", "a password needs TLS"),
        ("smtps://mail.example.com?starttls=true", "b@example.com", "TLS from the start"),
        ("smtp://mail.example.com?tls=yes", "b@example.com", "unknown option"),
        ("smtp://mail.example.com?starttls=maybe", "b@example.com", "true or false"),
        ("smtp://mail.example.com:99999", "b@example.com", "port"),
        ("smtp://mail.example.com", "not an address", "smtp_from"),
    ],
)
def test_bad_smtp_settings_stop_the_start(url: str, sender: str, message: str) -> None:
    """Each mistake is a ConfigError naming it, and a password never travels without TLS."""
    with pytest.raises(ConfigError, match=message):
        MailServer.from_settings(url, sender)


def test_mail_fields_are_single_lines_and_bounded() -> None:
    """A fault message with line breaks or a page of text becomes one bounded line (no header tricks)."""
    event = Event(
        "job.failed",
        {"job": "j1", "procedure": "p\r\nBcc: evil@example.com", "code": 1, "message": "x" * 5000},
    )
    message = compose_mail(event, ["ops@example.com"], "bridge@example.com")
    assert "\n" not in str(message["Subject"]) and message["Bcc"] is None
    longest = max(len(line) for line in message.get_content().splitlines())
    assert longest < 600
