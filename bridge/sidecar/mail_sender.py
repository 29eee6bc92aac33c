"""Mail listeners: `mailto:` addresses, the `smtp_url` setting, the mail an event becomes, one SMTP attempt.

Uses the standard library's smtplib in a thread (as `webhook_sender` uses http.client), and reports
with the same `AttemptResult`; imports no aiohttp and no store implementation. `send_for_listener`
picks mail or webhook by the listener's URL scheme, for the delivery loop. docs/events.md, "E-mail".
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import json
import logging
import re
import smtplib
import ssl
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

from bridge.errors import ConfigError
from bridge.events.delivery_body import encode_delivery_body
from bridge.events.model import JOB_FAILED, Event
from bridge.events.webhook_signing import delivery_headers
from bridge.sidecar.webhook_sender import AttemptResult, send_attempt
from bridge.sidecar.webhook_targets import Resolver, TargetError, WebhookPolicy, check_listener_url
from bridge.store.interfaces import ListenerStore
from bridge.store.webhook_records import ADMIN_OWNER, Listener, ListenerSecret

log = logging.getLogger("rpcbridge.sidecar.mail")

MAILTO: Final = "mailto:"
ACCEPTED: Final = 250  # SMTP's "requested mail action okay, completed" (RFC 5321 section 4.2.3)
MAX_RECIPIENTS: Final = 10
MAX_ADDRESS_LENGTH: Final = 254  # RFC 5321 section 4.5.3.1.3, a path's limit less its brackets
# Fault messages and data values are cut here in the mail: enough to act on, never a page of text.
MAX_FIELD_CHARS: Final = 500
# The one listener `admin_emails` keeps, under a fixed id so each start finds it again.
ADMIN_MAIL_LISTENER_ID: Final = "lst_admin_emails"
_SMTP_PORTS: Final = {"smtp": 25, "smtps": 465}
# A deliberately plain addr-spec: dot-atom local part at a host name, no quoting, no comments, so
# nothing in an address can become a header or an SMTP command.
_ADDRESS: Final = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


class InvalidMailto(ValueError):
    """A `mailto:` listener address that is not one to several plain addresses; the message says why."""


def is_mailto(url: str) -> bool:
    """True when a listener's URL is a `mailto:` address (any case of the scheme)."""
    return url[: len(MAILTO)].lower() == MAILTO


def parse_mailto(url: str) -> tuple[str, ...]:
    """The recipients of `mailto:a@example.com,b@example.com`; InvalidMailto for anything else.

    Headers (`?subject=...`) are refused: the bridge writes the mail, the listener only names who gets it.
    """
    if not is_mailto(url):
        raise InvalidMailto("a mail listener's URL starts with mailto:")
    rest = url[len(MAILTO) :]
    if "?" in rest or "#" in rest:
        raise InvalidMailto("a mailto: listener names addresses only, no ?headers")
    recipients = tuple(unquote(part).strip() for part in rest.split(","))
    if not recipients or len(recipients) > MAX_RECIPIENTS:
        raise InvalidMailto(f"a mailto: listener names 1 to {MAX_RECIPIENTS} addresses")
    for address in recipients:
        if len(address) > MAX_ADDRESS_LENGTH or _ADDRESS.fullmatch(address) is None:
            raise InvalidMailto(f"{address[:80]!r} is not a plain e-mail address such as ops@example.com")
    return recipients


@dataclass(frozen=True, repr=False)
class MailServer:
    """Where and how mail is sent, from `smtp_url` and `smtp_from`; `repr` hides the password."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str
    password: str
    sender: str

    def __repr__(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"MailServer({scheme}://{self.host}:{self.port}, starttls={self.starttls}, from={self.sender})"

    @classmethod
    def from_settings(cls, smtp_url: str, smtp_from: str) -> MailServer | None:
        """Parse `smtp_url` (None when empty: mail listeners then fail their attempts); ConfigError if bad."""
        if not smtp_url:
            return None
        parts = urlsplit(smtp_url)
        scheme = parts.scheme.lower()
        try:
            port = parts.port
        except ValueError:
            raise ConfigError("smtp_url: the port is not a number from 1 to 65535") from None
        if scheme not in _SMTP_PORTS or not parts.hostname:
            raise ConfigError("smtp_url is smtp://[user:password@]host[:port][?starttls=true] or smtps://...")
        query = parse_qs(parts.query)
        unknown = set(query) - {"starttls"}
        if unknown:
            raise ConfigError(f"smtp_url: unknown option(s) {sorted(unknown)}; only starttls")
        starttls_text = query.get("starttls", ["false"])[-1].lower()
        if starttls_text not in ("true", "false"):
            raise ConfigError("smtp_url: starttls is true or false")
        starttls = starttls_text == "true"
        if scheme == "smtps" and starttls:
            raise ConfigError("smtp_url: smtps:// is TLS from the start; starttls is for smtp://")
        if parts.password and scheme == "smtp" and not starttls:
            # A password on a plain connection would cross the network readable by anyone on the path.
            raise ConfigError("smtp_url: a password needs TLS: smtps://, or smtp://...?starttls=true")
        try:
            (sender,) = parse_mailto(MAILTO + smtp_from)
        except (InvalidMailto, ValueError) as exc:
            raise ConfigError(f"smtp_from: {exc}") from None
        return cls(
            host=parts.hostname,
            port=port or _SMTP_PORTS[scheme],
            implicit_tls=scheme == "smtps",
            starttls=starttls,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            sender=sender,
        )


def _one_line(value: Any) -> str:
    """A value as one line of at most MAX_FIELD_CHARS characters (control characters become spaces)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = "".join(" " if ch < " " or ch == "\x7f" else ch for ch in text)
    return text if len(text) <= MAX_FIELD_CHARS else text[: MAX_FIELD_CHARS - 1] + "…"


def compose_mail(event: Event, recipients: Sequence[str], sender: str) -> EmailMessage:
    """The mail an event becomes: a subject and plain-text body naming what happened, never a traceback.

    A `job.failed` event gives the job id, procedure, fault code and message, and request id; any
    other event its type, procedure, request id and (whitelisted) data, one line per field.
    """
    data = dict(event.data)
    procedure = _one_line(data.get("procedure", event.procedure or "-"))
    lines: list[str]
    if event.type == JOB_FAILED:
        job = _one_line(data.get("job", "-"))
        subject = f"[rpcbridge] job failed: {procedure} (job {job})"
        lines = [
            "A background job failed.",
            "",
            f"Job:        {job}",
            f"Procedure:  {procedure}",
            f"Error:      {_one_line(data.get('code', '-'))} {_one_line(data.get('message', ''))}",
            f"Request id: {_one_line(event.request_id or '-')}",
            f"Caller:     {_one_line(event.caller or '-')}",
        ]
    else:
        subject = f"[rpcbridge] {_one_line(event.type)}" + (f" from {procedure}" if event.procedure else "")
        lines = [
            f"Event {event.type} happened.",
            "",
            f"Procedure:  {procedure}",
            f"Request id: {_one_line(event.request_id or '-')}",
            f"Caller:     {_one_line(event.caller or '-')}",
            "",
            "Data:",
            *(f"  {_one_line(key)}: {_one_line(value)}" for key, value in data.items()),
        ]
    lines += ["", f"Event {event.id} at {event.timestamp.astimezone(datetime.UTC).isoformat()}"]
    message = EmailMessage()
    message["Subject"] = _one_line(subject)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = email.utils.format_datetime(datetime.datetime.now(datetime.UTC))
    message["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2])
    # The event id, as webhook-id is for webhooks: the same on every attempt, so duplicates can be spotted.
    message["X-Rpcbridge-Event-Id"] = event.id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to the bridge
    message.set_content("\n".join(lines) + "\n")
    return message


async def send_mail_attempt(
    listener_url: str,
    event: Event,
    server: MailServer | None,
    *,
    time_limit: float,
    executor: Executor | None = None,
) -> AttemptResult:
    """Send the event's mail once to a `mailto:` listener; never raises for the server's sake, only reports.

    Success carries SMTP's 250 (a 2xx, so `AttemptResult.succeeded` holds as for HTTP); any failure
    carries no status and an error for the delivery log. `time_limit` (`webhook_timeout`) bounds
    each socket operation of the SMTP exchange, which runs in `executor` (the loop's default when None).
    """
    started = time.monotonic()

    def failed(error: str) -> AttemptResult:
        return AttemptResult(None, error, None, "", time.monotonic() - started)

    if server is None:
        return failed("smtp_url is not set: mail listeners cannot be delivered")
    try:
        recipients = parse_mailto(listener_url)
    except InvalidMailto as exc:
        return failed(str(exc))
    message = compose_mail(event, recipients, server.sender)
    loop = asyncio.get_running_loop()
    try:
        code, reply = await loop.run_in_executor(executor, _exchange, server, message, recipients, time_limit)
    except smtplib.SMTPRecipientsRefused as exc:
        refused = "; ".join(
            f"{who}: {smtp_code} {_reply_text(text)}" for who, (smtp_code, text) in exc.recipients.items()
        )
        return failed(f"SMTP refused the recipients: {refused}")
    except smtplib.SMTPResponseException as exc:
        return failed(f"SMTP {exc.smtp_code} {_reply_text(exc.smtp_error)}")
    except smtplib.SMTPException as exc:
        return failed(f"SMTP failed: {exc}")
    except ssl.SSLError as exc:
        return failed(f"TLS to {server.host}:{server.port} failed: {exc.reason or exc}")
    except TimeoutError:
        return failed(f"timed out after {time_limit:g} s talking to {server.host}:{server.port}")
    except OSError as exc:
        return failed(f"connection to {server.host}:{server.port} failed: {exc.strerror or exc}")
    return AttemptResult(code, None, None, _reply_text(reply), time.monotonic() - started)


def _reply_text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return _one_line(text)


def _exchange(
    server: MailServer, message: EmailMessage, recipients: Sequence[str], time_limit: float
) -> tuple[int, bytes]:
    """The blocking SMTP conversation, in a thread: connect, TLS, log in, send, quit."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if server.implicit_tls:
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=time_limit, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=time_limit)
    with client:
        if server.starttls:
            client.starttls(context=context)
        if server.username:
            client.login(server.username, server.password)
        # Raises unless the server accepted the mail for every recipient (its reply to DATA was 250).
        client.send_message(message, from_addr=server.sender, to_addrs=list(recipients))
    return ACCEPTED, b"accepted for delivery"


async def send_for_listener(
    listener: Listener,
    event: Event,
    *,
    policy: WebhookPolicy,
    mail: MailServer | None,
    time_limit: float,
    now: datetime.datetime | None = None,
    resolver: Resolver | None = None,
    executor: Executor | None = None,
) -> AttemptResult:
    """One attempt to deliver `event` to `listener`: a mail for `mailto:`, a signed POST otherwise.

    The delivery loop's one entry point per attempt; the webhook body and headers are built here
    (Standard Webhooks v1, signed by every secret still valid at `now`).
    """
    if is_mailto(listener.url):
        return await send_mail_attempt(listener.url, event, mail, time_limit=time_limit, executor=executor)
    moment = now or datetime.datetime.now(datetime.UTC)
    try:
        target = check_listener_url(listener.url, policy)
    except TargetError as exc:
        return AttemptResult(None, exc.reason, None, "", 0.0)
    body = encode_delivery_body(event)
    headers = delivery_headers(listener.signing_secrets(moment), event.id, int(moment.timestamp()), body)
    return await send_attempt(
        target, policy, body, headers, time_limit=time_limit, resolver=resolver, executor=executor
    )


async def sync_admin_mail_listener(
    store: ListenerStore, admin_emails: Sequence[str], secret: str, now: datetime.datetime
) -> Listener | None:
    """Make the `admin_emails` listener (job.failed, owner admin) match the setting; at sidecar start.

    Kept as is when the addresses are unchanged (so an operator's `webhooks disable` holds across
    restarts); replaced, with a fresh delivery log, when they change; removed when the setting is empty.
    Raises ConfigError for an address that is not a plain e-mail address.
    """
    existing = await store.get(ADMIN_MAIL_LISTENER_ID)
    if not admin_emails:
        if existing is not None:
            await store.remove(ADMIN_MAIL_LISTENER_ID)
        return None
    try:
        url = MAILTO + ",".join(parse_mailto(MAILTO + ",".join(admin_emails)))
    except InvalidMailto as exc:
        raise ConfigError(f"admin_emails: {exc}") from None
    if existing is not None and existing.url == url:
        return existing
    if existing is not None:
        await store.remove(ADMIN_MAIL_LISTENER_ID)
    listener = Listener(
        id=ADMIN_MAIL_LISTENER_ID,
        url=url,
        event_types=(JOB_FAILED,),
        filter={},
        owner=ADMIN_OWNER,
        secrets=(ListenerSecret(secret),),  # unused by mail; a listener always has one
        created_at=now,
    )
    await store.add(listener)
    log.info("admin_emails listener set to %s", url)
    return listener
