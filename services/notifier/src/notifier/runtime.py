"""What every Lambda function of the notifier shares in its process: the logger, the container, the restore hook.

Built once per execution environment, at import (init phase); providers are lazy, so no client exists until
the first invocation asks for one.
"""

from __future__ import annotations

from notifier.container import build_container
from payments_shared import init_phase, snapstart
from payments_shared.observability.logging import build_logger

SERVICE = "notifier"
logger = build_logger(SERVICE)
container = build_container()
snapstart.install(container.reset_singletons)  # a restored copy rebuilds its clients (SnapStart)
init_phase.resume()  # what init built leaves the collector's sight (payments_shared.init_phase)
