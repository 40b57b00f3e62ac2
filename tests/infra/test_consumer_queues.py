"""contracts/consumers.json's queue settings per consumer, as the devstack and the ops tool read them (Terraform's
event_subscription module merges the same way; its terraform test checks the deployed mappings): the shared
block with a consumer's own batching over it, no batching wait on the buyer's path, and the refusals Lambda
would make at deploy time made when the file is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from payments_shared.topology import CONSUMERS_FILE, consumers, queue_settings

# The hops between POST /payments and GET /payments/{id} showing the outcome: the charge, the status projection.
BUYERS_PATH = {"finalizer", "initializer-outcome"}
SHARED = json.loads(CONSUMERS_FILE.read_text())["queue"]


def test_the_buyers_hops_batch_without_waiting_and_the_others_keep_the_shared_window() -> None:
    shared, subscriptions = consumers()
    by_name = {s.name: s.settings for s in subscriptions}
    assert {name for name, s in by_name.items() if s.maximum_batching_window_seconds == 0} == BUYERS_PATH
    for name in ("ledger", "wallet", "notifier"):
        assert by_name[name] == shared and shared.maximum_batching_window_seconds == 1  # fewer invocations


def test_redrive_visibility_and_retention_stay_one_setting_for_all() -> None:
    shared, subscriptions = consumers()
    for s in subscriptions:
        assert (s.settings.max_receive_count, s.settings.visibility_timeout_seconds) == (
            shared.max_receive_count,
            shared.visibility_timeout_seconds,
        )


def test_a_consumers_own_setting_wins_over_the_shared_one() -> None:
    settings = queue_settings(SHARED, {"batch_size": 5, "maximum_batching_window_seconds": 0}, "c")
    assert (settings.batch_size, settings.maximum_batching_window_seconds) == (5, 0)
    assert settings.maximum_concurrency == SHARED["maximum_concurrency"]


def test_a_shared_only_setting_set_per_consumer_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"consumer c: queue settings \['max_receive_count'\] are shared"):
        queue_settings(SHARED, {"max_receive_count": 2}, "c")


def test_a_batch_over_ten_without_a_window_is_refused_as_lambda_does() -> None:
    with pytest.raises(ValueError, match="batch_size over 10 needs maximum_batching_window_seconds >= 1"):
        queue_settings(SHARED, {"batch_size": 50, "maximum_batching_window_seconds": 0}, "c")
    assert queue_settings(SHARED, {"batch_size": 50}, "c").batch_size == 50  # with the shared 1 s window


def test_the_file_names_every_consumers_pattern() -> None:
    # A consumer's own block does not disturb what the other readers (patterns, functions) take from the file.
    _, subscriptions = consumers()
    assert all(Path(f"contracts/event_patterns/{s.pattern}.json").exists() for s in subscriptions)
