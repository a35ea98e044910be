"""Slow clients are cut off: a header read timeout per request and a body read timeout.

aiohttp bounds idle keep-alive connections but not a client that trickles its request headers one byte at a time,
so 50 such connections would sit on the server forever. `GuardedSite` serves connections with a request handler that
closes the connection when a request's headers are not complete within `header_timeout` of their first byte (or of
the connection opening); `body_timeout_middleware` answers 408 when the body does not arrive within `body_timeout`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger("adapters.server")


class _HeaderTimeoutHandler(RequestHandler):
    def __init__(self, *args, header_timeout: float, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._header_timeout = header_timeout
        self._header_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        count = self._request_count
        self._header_timer = self._loop.call_later(self._header_timeout, self._headers_overdue, count)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_overdue(self, count: int) -> None:
        self._header_timer = None
        if self._request_count == count and self.transport is not None:
            log.warning("client too slow sending request headers; connection closed",
                        extra={"header_timeout": self._header_timeout})
            self.force_close()
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        count = self._request_count
        super().data_received(data)
        if self._request_count > count:
            self._disarm()  # the headers are complete; the body has its own timeout
        elif (self._header_timer is None and data and self._current_request is None and not self._messages):
            self._arm()  # the first bytes of the next request on a kept-alive connection

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)


class GuardedSite(web.TCPSite):
    """A TCPSite whose connections have a header read timeout."""

    def __init__(self, runner: web.BaseRunner, host: str | None, port: int, *, header_timeout: float,
                 **kwargs) -> None:  # noqa: ANN003
        super().__init__(runner, host, port, **kwargs)
        self.header_timeout = header_timeout

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site; TCPSite.start would create a plain server
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None

        def protocol() -> RequestHandler:
            # web.Server.__call__ builds the handler the same way, from the runner's handler arguments.
            return _HeaderTimeoutHandler(server, loop=loop, header_timeout=self.header_timeout,
                                         **server._kwargs)  # noqa: SLF001

        self._server = await loop.create_server(protocol, self._host, self._port, ssl=self._ssl_context,
                                                backlog=self._backlog, reuse_address=self._reuse_address,
                                                reuse_port=self._reuse_port)
        self._bound_port = self._server.sockets[0].getsockname()[1] if self._server.sockets else self._port


def body_timeout_middleware(timeout: float) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def read_body_in_time(request: web.Request, handler) -> web.StreamResponse:  # noqa: ANN001
        if request.can_read_body:
            try:
                # The body is cached on the request, so the handler's own read()/json() reuse it.
                await asyncio.wait_for(request.read(), timeout)
            except TimeoutError:
                log.warning("client too slow sending the request body; answered 408",
                            extra={"path": request.path, "body_timeout": timeout})
                return web.json_response({"error": f"The request body did not arrive within {timeout:g} s."},
                                         status=408, headers={"Connection": "close"})
        return await handler(request)

    return read_body_in_time
