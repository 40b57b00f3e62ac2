"""moto 5 answers every function's SnapStart setting as off (its get_configuration hard-codes it) and drops
the setting on create and update. This keeps what was asked, as Lambda does, so the apply test reads back
what Terraform set: ApplyOn, and OptimizationStatus On for a published version of a SnapStart function."""

from __future__ import annotations

from typing import Any

from moto.awslambda.models import LambdaFunction

_NONE = {"ApplyOn": "None"}


def install() -> None:
    if getattr(LambdaFunction, "_keeps_snap_start", False):
        return
    original_init = LambdaFunction.__init__
    original_configuration = LambdaFunction.get_configuration
    original_update = LambdaFunction.update_configuration

    def __init__(self: Any, account_id: str, spec: dict[str, Any], region: str, version: str | int = 1) -> None:
        original_init(self, account_id, spec, region, version)
        self.snap_start = dict(spec.get("SnapStart") or _NONE)

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        configuration: dict[str, Any] = original_configuration(self, on_create)
        apply_on = getattr(self, "snap_start", _NONE).get("ApplyOn", "None")
        published = str(self.version) != "$LATEST"
        optimized = apply_on != "None" and published
        configuration["SnapStart"] = {"ApplyOn": apply_on, "OptimizationStatus": "On" if optimized else "Off"}
        return configuration

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "SnapStart" in config_updates:
            self.snap_start = dict(config_updates["SnapStart"] or _NONE)
        result: dict[str, Any] = original_update(self, config_updates)
        return result

    LambdaFunction.__init__ = __init__  # type: ignore[method-assign]
    LambdaFunction.get_configuration = get_configuration  # type: ignore[method-assign]
    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]
    LambdaFunction._keeps_snap_start = True  # type: ignore[attr-defined]
