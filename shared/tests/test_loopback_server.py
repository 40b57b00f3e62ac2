"""The test kit's loopback server: a kernel-chosen port, answering from a thread, and closed when stopped (the
next connection is refused, so a test's stopped receiver never swallows a later test's requests)."""

from __future__ import annotations

import socket
import urllib.request
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from payments_testing.loopback import LoopbackServer, free_port, serving


class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # - http.server's name
        body = self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_it_answers_on_its_port_until_stopped_then_refuses() -> None:
    with serving(Hello) as server:
        assert server.url("/x") == f"http://127.0.0.1:{server.port}/x"
        with urllib.request.urlopen(server.url("/hello"), timeout=5) as answer:  # noqa: S310 - loopback
            assert answer.read() == b"/hello"
    assert refused(server.port)


def test_two_servers_get_two_ports_and_a_free_port_refuses() -> None:
    first, second = LoopbackServer(Hello).start(), LoopbackServer(Hello).start()
    try:
        assert first.port != second.port
    finally:
        first.stop()
        second.stop()
    assert refused(free_port())


def test_stopping_a_server_never_started_only_closes_it() -> None:
    server = LoopbackServer(Hello)
    server.stop()
    with pytest.raises(OSError):
        server._server.socket.getsockname()
