"""What notifier-deliver shares in its process: the logger and its container, built once at init (lazily)."""

from __future__ import annotations

from notifier.delivery.container import build_container
from payments_shared import init_phase, snapstart
from payments_shared.observability.logging import build_logger

SERVICE = "notifier"
logger = build_logger(SERVICE)
container = build_container()
snapstart.install(container.reset_singletons)  # a restored copy rebuilds its clients (SnapStart)
init_phase.resume()  # what init built leaves the collector's sight (payments_shared.init_phase)
