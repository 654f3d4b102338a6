"""FastAGI server: accepts Asterisk's connections and runs the entry point named in the AGI URL.

Asterisk holds the caller in silence for as long as a FastAGI session lasts (scenario 7d), so every
step here has a deadline: the header, each command, the handler as a whole, the failure report and
the closing handshake. When something goes wrong the server tells the dialplan why through
`HOTLINE_AGI_FAILURE` (best effort) and closes; the dialplan then falls back on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Mapping

import structlog

from callcenter.asterisk.channel import AgiChannel, AgiError, ChannelHungUp
from callcenter.asterisk.protocol import MAX_HEADER_LINES, ProtocolError
from callcenter.asterisk.session import AgiSession, AgiTimeout, ConnectionLost, read_header
from callcenter.asterisk.variables import AGI_FAILURE, UNKNOWN
from callcenter.domain.phone import mask
from callcenter.services.metrics import NO_METRICS, Metrics

Handler = Callable[[AgiChannel], Awaitable[None]]

log = structlog.get_logger(__name__)

# Values of AGI_FAILURE (see variables.py).
FAILURE_UNKNOWN_SCRIPT = "unknown_script"
FAILURE_ERROR = "error"
FAILURE_TIMEOUT = "timeout"
FAILURE_BUSY = "busy"


def entry_points(pairs: Iterable[tuple[str, Handler]]) -> dict[str, Handler]:
    """The dispatch table; a name given twice is a wiring mistake, not something to resolve silently."""
    table: dict[str, Handler] = {}
    for name, handler in pairs:
        if name in table:
            raise ValueError(f"duplicate FastAGI entry point: {name!r}")
        table[name] = handler
    return table


class FastAgiServer:
    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        host: str,
        port: int,
        max_sessions: int = 200,
        header_timeout: float = 5.0,
        command_timeout: float = 60.0,
        handler_timeout: float = 120.0,
        max_header_bytes: int = 16384,
        slot_wait: float = 0.5,
        failure_timeout: float = 2.0,
        close_timeout: float = 1.0,
        shutdown_grace: float = 10.0,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self._metrics = metrics
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self._handlers = dict(handlers)
        self._host = host
        self._port = port
        self._max_sessions = max_sessions
        self._header_timeout = header_timeout
        self._command_timeout = command_timeout
        self._handler_timeout = handler_timeout
        self._max_header_bytes = max_header_bytes
        self._slot_wait = slot_wait
        self._failure_timeout = failure_timeout
        self._close_timeout = close_timeout
        self._shutdown_grace = shutdown_grace
        self._slots = asyncio.Semaphore(max_sessions)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The port listened on (the one the OS chose when 0 was asked for)."""
        if self._server is None or not self._server.sockets:
            if self._port == 0:
                raise RuntimeError("FastAGI server not started: its port is not known yet")
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def active_connections(self) -> int:
        return len(self._connections)

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("FastAGI server already started")
        self._server = await asyncio.start_server(self._on_connection, self._host, self._port)
        log.info("agi.server_started", host=self._host, port=self.port, entry_points=sorted(self._handlers))

    async def close(self, grace: float | None = None) -> None:
        """Stop accepting, give running sessions `grace` seconds, then cancel what is left."""
        grace = self._shutdown_grace if grace is None else grace
        if self._server is not None:
            self._server.close()
        running = set(self._connections)
        if running:
            _, pending = await asyncio.wait(running, timeout=grace)
            if pending:
                log.warning("agi.sessions_cancelled", count=len(pending))
                for task in pending:
                    task.cancel()
                # Their cleanup (closing handshake) is bounded by close_timeout; wait that long.
                await asyncio.wait(pending, timeout=self._close_timeout * 2 + 1)
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._close_timeout):
                    await self._server.wait_closed()
        log.info("agi.server_closed")

    async def __aenter__(self) -> FastAgiServer:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # --- per connection ---------------------------------------------------------------------------

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except Exception:
            # Last resort: nothing a peer sends may take the server down (CancelledError passes).
            log.exception("agi.session_crashed")
        finally:
            self._connections.discard(task)
            # Whatever happened (cancelled while reading the header, say), the socket is released.
            if not writer.is_closing():
                writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            header, rest = await read_header(
                reader,
                deadline=self._header_timeout,
                max_bytes=self._max_header_bytes,
                max_lines=MAX_HEADER_LINES,
            )
        except AgiTimeout:
            log.warning("agi.header_timeout", timeout=self._header_timeout, peer=_peer(writer))
            await self._drop(writer)
            return
        except ProtocolError as exc:
            log.warning("agi.header_rejected", reason=str(exc), peer=_peer(writer))
            await self._drop(writer)
            return
        except ConnectionLost:
            log.info("agi.header_incomplete", peer=_peer(writer))
            await self._drop(writer)
            return

        session = AgiSession(
            reader,
            writer,
            header,
            command_timeout=self._command_timeout,
            close_timeout=self._close_timeout,
            buffered=rest,
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        # Unknown scripts are counted under one label: a peer must not be able to mint label values.
        script = header.script if header.script in self._handlers else "unknown"
        self._metrics.agi_session(script, +1)
        with structlog.contextvars.bound_contextvars(call_id=header.uniqueid, script=header.script):
            try:
                await self._dispatch(session)
            finally:
                await session.close()
                elapsed = loop.time() - started
                self._metrics.agi_session(script, -1)
                self._metrics.agi_session_done(script, elapsed)
                log.info("agi.session_end", duration_ms=round(elapsed * 1000), hung_up=session.hung_up)

    async def _dispatch(self, session: AgiSession) -> None:
        header = session.header
        caller = header.callerid
        log.info("agi.session_start", caller=mask(caller) if caller and caller != UNKNOWN else caller)
        handler = self._handlers.get(header.script)
        if handler is None:
            log.warning("agi.unknown_script", known=sorted(self._handlers))
            await self._report_failure(session, FAILURE_UNKNOWN_SCRIPT)
            return
        if not await self._acquire_slot():
            log.warning("agi.busy", max_sessions=self._max_sessions)
            await self._report_failure(session, FAILURE_BUSY)
            return
        try:
            await self._run_handler(handler, session)
        finally:
            self._slots.release()

    async def _acquire_slot(self) -> bool:
        # Semaphore.acquire gives the slot back if cancelled after being granted, so a timeout
        # here cannot leak a slot.
        try:
            async with asyncio.timeout(self._slot_wait):
                await self._slots.acquire()
        except TimeoutError:
            return False
        return True

    async def _run_handler(self, handler: Handler, session: AgiSession) -> None:
        scope = asyncio.timeout(self._handler_timeout)
        try:
            async with scope:
                await handler(session)
        except ChannelHungUp:
            # The caller left: nothing to route, and nobody left to tell. Not a fault of ours.
            log.info("agi.caller_hung_up")
        except Exception as exc:
            if isinstance(exc, TimeoutError) and scope.expired():
                log.error("agi.handler_timeout", timeout=self._handler_timeout, exc_info=True)
                await self._report_failure(session, FAILURE_TIMEOUT)
            else:
                log.error("agi.handler_failed", exc_info=True)
                await self._report_failure(session, FAILURE_ERROR)

    async def _report_failure(self, session: AgiSession, reason: str) -> None:
        """Best effort, bounded: the dialplan reads AGI_FAILURE to say why the route is missing."""
        self._metrics.agi_failure(reason)
        try:
            async with asyncio.timeout(self._failure_timeout):
                await session.set_variable(AGI_FAILURE, reason)
        except (AgiError, TimeoutError, OSError) as exc:
            log.warning("agi.failure_not_reported", reason=reason, error=type(exc).__name__)

    async def _drop(self, writer: asyncio.StreamWriter) -> None:
        """Close a connection that never became a session (no header); bounded, errors ignored."""
        writer.close()
        with contextlib.suppress(TimeoutError, OSError):
            async with asyncio.timeout(self._close_timeout):
                await writer.wait_closed()


def _peer(writer: asyncio.StreamWriter) -> str:
    """Address of the connecting Asterisk (a server, not a caller: fine to log)."""
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else str(peer)
