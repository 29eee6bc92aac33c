"""`GET /ws`: JSON-RPC 2.0 over a WebSocket, with authentication once per socket and subscriptions.

Each text frame is answered exactly as a `POST /rpc` body is (`JsonRpcProtocol.exchange`, the
frontend's dispatcher); `rpc.authenticate`, `rpc.subscribe` and `rpc.unsubscribe` are answered
here, by a dispatcher that wraps the frontend's. Frames run concurrently; replies go out as they
finish. Every close code is listed in docs/realtime.md.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from aiohttp import WSMsgType, hdrs, web

from bridge import metadata
from bridge.auth.signing import credentials_from_params, parse_authorization
from bridge.calls import Call, CallContext, Credentials, Outcome, Success
from bridge.errors import BridgeError, Fault
from bridge.events.filters import InvalidFilter, compile_filter
from bridge.events.model import is_event_type
from bridge.events.realtime import SocketIdentity, StreamedEvent
from bridge.faults import (
    FORBIDDEN,
    INVALID_PARAMS,
    INVALID_REQUEST,
    UNAUTHENTICATED,
    WORKER_UNAVAILABLE,
    fault,
)
from bridge.frontend.dispatch import Dispatcher
from bridge.frontend.jsonrpc_endpoint import JsonRpcProtocol
from bridge.frontend.metrics import FrontendMetrics
from bridge.frontend.realtime_hub import (
    ALL_TYPES,
    CLOSE_SLOW_CONSUMER,
    RealtimeHub,
    Subscription,
    replay_then_live,
)
from bridge.frontend.request_log import REQUEST_ID
from bridge.introspection import LIST_EVENTS
from bridge.settings import FrontendSettings, WebSocketLimits

log = logging.getLogger("rpcbridge.realtime")

WS_PATH: Final = "/ws"
AUTHENTICATE: Final = "rpc.authenticate"
SUBSCRIBE: Final = "rpc.subscribe"
UNSUBSCRIBE: Final = "rpc.unsubscribe"
CLOSE_IDLE: Final = 4002
CLOSE_BINARY: Final = 1003
CLOSE_GOING_AWAY: Final = 1001
# Seconds a subscribe waits for the sidecar's stream (at start-up, or while it reconnects).
READY_SECONDS: Final = 5.0
# Seconds a closing handshake may take before the connection is dropped.
CLOSE_SECONDS: Final = 5.0
# Frames one socket may have running at once; past that the socket is not read until one ends.
MAX_FRAMES_IN_FLIGHT: Final = 100
_AUTH_NAMES: Final = ("nonce", "timestamp", "user", "signature")
JSONRPC_SOCKET: Final = JsonRpcProtocol(frozenset({AUTHENTICATE, SUBSCRIBE, UNSUBSCRIBE}))


class SocketSession:
    """One open socket: its user, its bounded send queue and writer, and its subscriptions."""

    def __init__(self, ws: web.WebSocketResponse, limits: WebSocketLimits, metrics: FrontendMetrics) -> None:
        self.ws = ws
        self.identity: SocketIdentity | None = None
        self.subscriptions: dict[str, Subscription] = {}
        self._limits = limits
        self._metrics = metrics
        self._queue: collections.deque[str] = collections.deque()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self.closing: tuple[int, str] | None = None
        self.authenticating = False

    def send(self, text: str) -> None:
        """Queue a message; past `ws_send_queue` messages the socket is closed with 4008."""
        if self.closing is not None:
            return
        if len(self._queue) >= self._limits.send_queue:
            self._metrics.ws_slow_closes.inc()
            self.close_soon(CLOSE_SLOW_CONSUMER, "send queue full")
            return
        self._queue.append(text)
        self._wake.set()

    async def send_paced(self, text: str) -> bool:
        """Queue a message once there is room (a replay must not overflow); False once closing."""
        while self.closing is None and len(self._queue) >= self._limits.send_queue:
            self._room.clear()
            await self._room.wait()
        self.send(text)
        return self.closing is None

    def close_soon(self, code: int, reason: str) -> None:
        """Drop what is queued and close the socket with `code` (the first reason wins)."""
        if self.closing is not None:
            return
        self.closing = (code, reason)
        self._queue.clear()
        self._wake.set()
        self._room.set()

    async def write(self) -> None:
        """Send queued messages in order until closing; then send the close frame."""
        try:
            while self.closing is None:
                while self._queue and self.closing is None:
                    text = self._queue.popleft()
                    self._room.set()
                    await self.ws.send_str(text)
                if self.closing is None:
                    self._wake.clear()
                    await self._wake.wait()
            code, reason = self.closing
            async with asyncio.timeout(CLOSE_SECONDS):
                await self.ws.close(code=code, message=reason.encode())
        except TimeoutError:
            log.info("socket did not finish closing within %s s; dropped", CLOSE_SECONDS)
        except ConnectionError:  # the client went away: nothing more to send
            self.close_soon(CLOSE_GOING_AWAY, "connection lost")


class SocketDispatcher(Dispatcher):
    """The frontend's dispatcher plus the `rpc.*` methods of one socket.

    A subscription's reply must reach the client before its replayed events: `rpc.subscribe`
    leaves the replay in `after_reply`, which the frame runs once its reply is queued.
    """

    def __init__(
        self,
        base: Dispatcher,
        session: SocketSession,
        hub: RealtimeHub,
        limits: WebSocketLimits,
        metrics: FrontendMetrics,
    ) -> None:
        super().__init__(base.invoker, base.limits)
        self._session = session
        self._hub = hub
        self._limits = limits
        self._metrics = metrics
        self.after_reply: dict[str, list[Callable[[], Any]]] = {}

    async def run(self, call: Call, context: CallContext, *, multicall: bool) -> Outcome:
        """Answer `rpc.*` here; every other call goes the way a POST /rpc call goes."""
        handlers = {
            AUTHENTICATE: self._authenticate,
            SUBSCRIBE: self._subscribe,
            UNSUBSCRIBE: self._unsubscribe,
        }
        handler = handlers.get(call.procedure)
        if handler is None:
            return await super().run(call, self._with_token(context), multicall=multicall)
        try:
            return await handler(call, context)
        except Fault as failure:
            return failure

    def _with_token(self, context: CallContext) -> CallContext:
        identity = self._session.identity
        if identity is None:
            return context
        return dataclasses.replace(context, extra={**context.extra, metadata.SOCKET_TOKEN: identity.token})

    async def _authenticate(self, call: Call, context: CallContext) -> Outcome:
        if self._session.identity is not None or self._session.authenticating:
            return fault(INVALID_REQUEST, "Invalid Request: this socket is already authenticated")
        params: Any = call.params
        if call.named is not None:
            params = [call.named.get(name) for name in _AUTH_NAMES]
        creds, _ = credentials_from_params(params)
        self._session.authenticating = True
        try:
            identity = await self._hub.source.authenticate(creds, context.request_id)
        finally:
            self._session.authenticating = False
        if isinstance(identity, Fault):
            return identity
        self._session.identity = identity
        return Success({"user": identity.user})

    async def _subscribe(self, call: Call, context: CallContext) -> Outcome:
        params = _named(call)
        types = params.get("events")
        if (
            not isinstance(types, list)
            or not types
            or not all(isinstance(t, str) and (t == ALL_TYPES or is_event_type(t)) for t in types)
        ):
            raise fault(INVALID_PARAMS, 'Invalid params: "events" must be a non-empty list of event types')
        try:
            match = compile_filter(params.get("match") or {})
        except InvalidFilter as exc:
            raise fault(INVALID_PARAMS, f"Invalid params: match: {exc}") from exc
        since = _since(params.get("since"))
        if len(self._session.subscriptions) >= self._limits.max_subscriptions:
            raise fault(
                INVALID_PARAMS, f"Invalid params: at most {self._limits.max_subscriptions} subscriptions"
            )
        await self._check_hooks(frozenset(types), context)
        try:
            async with asyncio.timeout(READY_SECONDS):
                await self._hub.ready.wait()
        except TimeoutError:
            raise fault(WORKER_UNAVAILABLE, "event stream unavailable") from None
        subscription = Subscription(
            "sub_" + secrets.token_hex(8),
            self._session,
            frozenset(types),
            match,
            limit=self._limits.send_queue,
        )
        epoch, start = self._hub.epoch, self._hub.offset
        subscription.last_offset = start
        self._hub.add(subscription)  # live events wait in `pending` from now: none is missed
        replay: list[StreamedEvent] | None = []
        if since is not None:
            try:
                replay = await self._hub.recover(
                    subscription, since[0], since[1], self._limits.recovery_limit
                )
            except BridgeError as exc:
                self._hub.remove(subscription)
                raise fault(WORKER_UNAVAILABLE, "event history unavailable") from exc
            self._metrics.ws_recoveries.labels("recovered" if replay is not None else "not_recovered").inc()
        self._session.subscriptions[subscription.id] = subscription
        self._metrics.ws_subscriptions.inc()
        recovered = since is not None and replay is not None
        if since is not None and recovered:
            subscription.last_offset = since[1]
        events = replay or []
        self.after_reply.setdefault(context.request_id, []).append(
            lambda: replay_then_live(subscription, events, epoch, self._session.send_paced)
        )
        offset = subscription.last_offset
        return Success(
            {"subscription": subscription.id, "epoch": epoch, "offset": offset, "recovered": recovered}
        )

    async def _check_hooks(self, types: frozenset[str], context: CallContext) -> None:
        """Refuse, for a socket not allowed them, the auth=True hooks named explicitly."""
        outcome = await self.invoker.invoke(Call(LIST_EVENTS), context)
        if not isinstance(outcome, Success) or not isinstance(outcome.value, list):
            return  # unknown hooks may be declared later; events are checked as they are sent
        identity = self._session.identity
        for hook in outcome.value:
            if not isinstance(hook, Mapping) or hook.get("name") not in types or not hook.get("auth"):
                continue
            if identity is None:
                raise fault(UNAUTHENTICATED, data=f"{hook['name']} is for authenticated subscribers")
            if not identity.allows(str(hook["name"])):
                raise fault(FORBIDDEN, data=f"{hook['name']} is outside the user's scopes")

    async def _unsubscribe(self, call: Call, context: CallContext) -> Outcome:
        name = _named(call).get("subscription")
        subscription = self._session.subscriptions.pop(name, None) if isinstance(name, str) else None
        if subscription is None:
            raise fault(INVALID_PARAMS, "Invalid params: no such subscription on this socket")
        self._hub.remove(subscription)
        self._metrics.ws_subscriptions.dec()
        return Success(True)


def _named(call: Call) -> Mapping[str, Any]:
    if call.named is None:
        raise fault(INVALID_PARAMS, "Invalid params: pass an object (params by name)")
    return call.named


def _since(value: Any) -> tuple[str, int] | None:
    if value is None:
        return None
    epoch = value.get("epoch") if isinstance(value, dict) else None
    offset = value.get("offset") if isinstance(value, dict) else None
    if not isinstance(epoch, str) or not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise fault(INVALID_PARAMS, 'Invalid params: "since" is {"epoch": string, "offset": integer >= 0}')
    return epoch, offset


class WebSocketEndpoint:
    """The `GET /ws` handler, with the hub and limits it needs."""

    def __init__(
        self, settings: FrontendSettings, dispatcher: Dispatcher, hub: RealtimeHub, metrics: FrontendMetrics
    ) -> None:
        self._settings = settings
        self._limits = settings.websocket
        self._dispatcher = dispatcher
        self._hub = hub
        self._metrics = metrics

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Upgrade, authenticate by header if one was sent, then serve the socket until it closes."""
        if len(self._hub.sockets) >= self._limits.max_sockets:
            return web.Response(status=503, text="too many WebSockets on this frontend\n")
        identity = await self._header_identity(request)
        if isinstance(identity, web.Response):
            return identity
        ws = web.WebSocketResponse(
            heartbeat=self._limits.heartbeat_seconds,
            max_msg_size=self._limits.max_message_bytes,
            autoping=True,
        )
        await ws.prepare(request)
        session = SocketSession(ws, self._limits, self._metrics)
        session.identity = identity
        dispatcher = SocketDispatcher(self._dispatcher, session, self._hub, self._limits, self._metrics)
        self._hub.sockets.add(session)
        self._metrics.ws_sockets.inc()
        writer = asyncio.create_task(session.write())
        frames: set[asyncio.Task[None]] = set()
        try:
            await self._read(request, ws, session, dispatcher, frames)
        finally:
            self._hub.sockets.discard(session)
            self._metrics.ws_sockets.dec()
            for subscription in session.subscriptions.values():
                self._hub.remove(subscription)
            self._metrics.ws_subscriptions.dec(len(session.subscriptions))
            for task in frames:
                task.cancel()
            session.close_soon(CLOSE_GOING_AWAY, "closing")
            try:
                async with asyncio.timeout(CLOSE_SECONDS):
                    await writer
            except TimeoutError:
                writer.cancel()
        return ws

    async def _header_identity(self, request: web.Request) -> SocketIdentity | web.Response | None:
        """The identity the upgrade request's Authorization header proves (it signs GET, /ws, no body)."""
        header = request.headers.get(hdrs.AUTHORIZATION)
        if header is None:
            return None
        try:
            creds: Credentials = parse_authorization(
                header, method=request.method, path=request.raw_path.partition("?")[0], body=b""
            )
        except Fault as refused:
            return web.Response(status=401, text=f"{refused.message}\n")
        identity = await self._hub.source.authenticate(creds, request[REQUEST_ID])
        if isinstance(identity, Fault):
            status = 503 if identity.code not in (UNAUTHENTICATED, FORBIDDEN) else 401
            return web.Response(status=status, text=f"{identity.message}\n")
        return identity

    async def _read(
        self,
        request: web.Request,
        ws: web.WebSocketResponse,
        session: SocketSession,
        dispatcher: SocketDispatcher,
        frames: set[asyncio.Task[None]],
    ) -> None:
        in_flight = asyncio.Semaphore(MAX_FRAMES_IN_FLIGHT)
        while session.closing is None:
            try:
                message = await ws.receive(timeout=self._limits.idle_seconds)
            except TimeoutError:
                if session.subscriptions or frames:
                    continue  # waiting for events or answers is not idle
                session.close_soon(CLOSE_IDLE, "idle")
                return
            if message.type is WSMsgType.TEXT:
                await in_flight.acquire()
                task = asyncio.create_task(self._frame(request, message.data, session, dispatcher))
                frames.add(task)
                task.add_done_callback(frames.discard)
                task.add_done_callback(lambda _: in_flight.release())
            elif message.type is WSMsgType.BINARY:
                session.close_soon(CLOSE_BINARY, "binary frames are not accepted")
                return
            else:  # CLOSE, CLOSING, CLOSED, ERROR (aiohttp has answered 1007, 1009 or 1002 itself)
                return

    async def _frame(
        self, request: web.Request, text: str, session: SocketSession, dispatcher: SocketDispatcher
    ) -> None:
        """Answer one frame as POST /rpc answers a body, then run what its subscriptions left to do."""
        request_id = secrets.token_hex(8)
        context = CallContext(
            request_id=request_id,
            timeout=self._settings.default_timeout,
            protocol=JSONRPC_SOCKET.name,
            peer=request.remote or "",
        )
        started = time.perf_counter()
        try:
            exchange = await JSONRPC_SOCKET.exchange(text.encode(), context, dispatcher)
        except Exception:
            log.exception("unexpected error answering a WebSocket frame request_id=%s", request_id)
            session.close_soon(1011, "internal error")
            return
        self._metrics.observe(
            JSONRPC_SOCKET.name, exchange.outcomes, exchange.faulted, time.perf_counter() - started
        )
        if exchange.body is not None:
            session.send(exchange.body.decode())
        for action in dispatcher.after_reply.pop(request_id, ()):
            await action()
