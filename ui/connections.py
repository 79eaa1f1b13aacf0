"""uvicorn's HTTP protocol with a deadline on a request's headers.

uvicorn closes an idle kept-alive connection, but has no limit on how long a request's headers may
take: a client that opens connections and trickles half a header (slowloris) holds each of them
for ever, and ``limit_concurrency`` then turns everyone else away. Here a request's headers must be
complete within ``seconds`` of its first byte (or of the connection, for the first request), or the
connection is closed, as nginx's ``client_header_timeout`` does. A request being answered, its body
and the event streams after the headers are not affected.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)


def protocol_with_header_deadline(seconds: float) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol class, closing connections whose headers take longer than ``seconds``."""

    class HeaderDeadlineProtocol(HttpToolsProtocol):
        _header_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_header_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_header_deadline()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            # A kept-alive connection's next request: its headers get the same time.
            self._arm_header_deadline()
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._cancel_header_deadline()
            super().on_headers_complete()

        def _arm_header_deadline(self) -> None:
            if self._header_deadline is None:
                self._header_deadline = self.loop.call_later(seconds, self._headers_too_slow)

        def _cancel_header_deadline(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None

        def _headers_too_slow(self) -> None:
            self._header_deadline = None
            if not self.transport.is_closing():
                log.debug("closed a connection whose request headers took over %.0f s", seconds)
                self.transport.close()

    return HeaderDeadlineProtocol
