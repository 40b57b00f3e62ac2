"""The notifier's functions read the names the Terraform root sets, and only the local run allows loopback."""

from __future__ import annotations

import re
from pathlib import Path

from notifier.container import build_container

ROOT = Path("infra/terraform/services/notifier/main.tf")


def test_the_container_reads_what_the_terraform_root_sets() -> None:
    environment = ROOT.read_text().split("environment = {", 1)[1].split("}", 1)[0]
    names = set(re.findall(r"^\s*([A-Z_]+)\s*=", environment, re.MULTILINE))
    assert {"API_PRINCIPALS_TABLE", "WEBHOOK_ENDPOINTS_TABLE", "MERCHANT_EVENTS_TABLE", "DELIVERIES_QUEUE_URL"} <= names
    config = build_container({name: f"value-of-{name}" for name in names}).config()
    assert config["principals_table"] == "value-of-API_PRINCIPALS_TABLE"
    assert config["endpoints_table"] == "value-of-WEBHOOK_ENDPOINTS_TABLE"
    assert config["events_table"] == "value-of-MERCHANT_EVENTS_TABLE"
    assert config["deliveries_queue_url"] == "value-of-DELIVERIES_QUEUE_URL"
    assert config["allow_loopback"] is False


def test_only_the_exact_local_setting_allows_loopback() -> None:
    assert build_container({"WEBHOOK_TARGETS_ALLOW_LOOPBACK": "1"}).config.allow_loopback() is True
    for value in ("", "0", "true", "yes"):
        assert build_container({"WEBHOOK_TARGETS_ALLOW_LOOPBACK": value}).config.allow_loopback() is False
