"""An HTTP server on a free loopback port for a test or the local run: started in a thread, stopped cleanly.

What every receiver the tests stand up needs (webhook receivers, the OTLP collector, a PSP's misbehaving peer):
a port the kernel chose (no collisions between tests running side by side), request threads that never keep
the process alive, a short poll so stopping is quick, and stopping that closes the socket. Only the standard
library: the fake PSP's tests and the local run use it without the services' dependencies.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOOPBACK = "127.0.0.1"
POLL_S = 0.05  # serve_forever's poll: how long shutdown() may wait


class LoopbackServer:
    """`LoopbackServer(Handler).start()` ... `.stop()`, or `with LoopbackServer(Handler) as server:`."""

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        *,
        host: str = LOOPBACK,
        tls: ssl.SSLContext | None = None,
        name: str | None = None,
    ) -> None:
        self._server = ThreadingHTTPServer((host, 0), handler)
        self._server.daemon_threads = True  # a request still being answered never holds the process
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_S,), name=name, daemon=True)

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "", scheme: str = "http") -> str:
        return f"{scheme}://{self.host}:{self.port}{path}"

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], *, tls: ssl.SSLContext | None = None) -> Iterator[LoopbackServer]:
    """A pytest fixture's body in one line: `with serving(Handler) as server: yield server`."""
    with LoopbackServer(handler, tls=tls) as server:
        yield server


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on (bound, then closed again): for a server started later, or a refused connection."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
