"""Fake PSP: an HTTP server on 127.0.0.1 that charges idempotently and misbehaves on request.

API (JSON):
  POST /charges   {"idempotency_key", "amount", "currency", "merchant_id", "card": {"last4", "brand", "token"}}
                  → 201 {"status": "APPROVED"|"DECLINED", "psp_reference", "error_message"}
  GET  /charges/<idempotency_key>  → 200 the stored result, 404 if never charged

Charges are idempotent by key: a repeated POST returns the stored result without charging again.
Declines follow test-card style by the card's last four digits (see DECLINES).
Faults are scripted per key (`script(key, [...])`) or drawn at random (`fault_rates`):
  "503"      answer 503 before charging
  "timeout"  sleep past the client's read timeout before charging (nothing charged)
  "lost"     charge, then never answer in time (the client sees a timeout: outcome unknown)
  "latency:<ms>"  answer normally after a delay
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DECLINES = {
    "0002": "insufficient funds",
    "0069": "expired card",
    "0119": "suspected fraud",
    "9995": "do not honor",
}


class FakePsp:
    def __init__(
        self,
        *,
        hang_seconds: float = 2.0,
        fault_rates: dict[str, float] | None = None,
        seed: int = 0,
    ) -> None:
        self.hang_seconds = hang_seconds
        self.fault_rates = fault_rates or {}
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._scripts: dict[str, list[str]] = {}
        self._results: dict[str, dict[str, Any]] = {}
        self.charges: Counter[str] = Counter()  # real charges per idempotency key (must stay <= 1)
        self.requests: Counter[str] = Counter()  # POST /charges per key, retries included
        self._server: ThreadingHTTPServer | None = None

    # -- control
    def script(self, idempotency_key: str, behaviours: Iterable[str]) -> None:
        with self._lock:
            self._scripts[idempotency_key] = list(behaviours)

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, port: int = 0) -> FakePsp:
        psp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # - stdlib signature
                return

            def do_POST(self) -> None:  # - stdlib name
                if self.path != "/charges":
                    return self._send(404, {"error": "not found"})
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                status, payload, delay = psp._charge(body)
                if delay:
                    time.sleep(delay)
                self._send(status, payload)

            def do_GET(self) -> None:
                key = self.path.removeprefix("/charges/")
                with psp._lock:
                    result = psp._results.get(key)
                self._send(200, result) if result else self._send(404, {"error": "unknown charge"})

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                raw = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): exactly the "response lost" case

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-psp", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- behaviour
    def _next_behaviour(self, key: str) -> str:
        with self._lock:
            script = self._scripts.get(key)
            if script:
                return script.pop(0)
            draw = self._random.random()
        for behaviour, rate in self.fault_rates.items():
            if draw < rate:
                return behaviour
            draw -= rate
        return "ok"

    def _charge(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
        key = str(body.get("idempotency_key", ""))
        if not key:
            return 400, {"error": "idempotency_key is required"}, 0.0
        with self._lock:
            self.requests[key] += 1
            existing = self._results.get(key)
        if existing is not None:
            return 200, existing, 0.0  # idempotent replay: no new charge
        behaviour = self._next_behaviour(key)
        if behaviour == "503":
            return 503, {"error": "service unavailable"}, 0.0
        if behaviour == "timeout":
            return 503, {"error": "too late"}, self.hang_seconds
        last4 = str(body.get("card", {}).get("last4", ""))
        decline = DECLINES.get(last4)
        result = {
            "status": "DECLINED" if decline else "APPROVED",
            "psp_reference": f"psp_{uuid.uuid4().hex[:16]}",
            "error_message": decline,
            "amount": body.get("amount"),
            "currency": body.get("currency"),
        }
        with self._lock:
            if key in self._results:  # a concurrent twin won: still one charge
                return 200, self._results[key], 0.0
            self._results[key] = result
            if not decline:
                self.charges[key] += 1
        if behaviour == "lost":
            return 201, result, self.hang_seconds
        delay = float(behaviour.split(":", 1)[1]) / 1000 if behaviour.startswith("latency:") else 0.0
        return 201, result, delay


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Run the fake PSP on loopback.")
    parser.add_argument("--port", type=int, default=8089)
    args = parser.parse_args()
    psp = FakePsp().start(args.port)
    print(f"fake PSP listening on {psp.url}")
    threading.Event().wait()


if __name__ == "__main__":
    main()
