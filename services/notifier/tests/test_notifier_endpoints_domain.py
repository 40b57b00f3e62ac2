"""Endpoints: subscriptions as stored, ids named by the key, and rotations that keep exactly the live secrets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain.endpoints import (
    MAX_GRACE_S,
    ROTATION_KEYS_KEPT,
    InvalidEndpoint,
    Secret,
    enabled_events,
    endpoint_id_for,
    new_endpoint,
    new_secret,
    rotate,
    rotated,
)

NOW = 1_800_000_000


def endpoint(types: tuple[str, ...] = ("*",)):
    return new_endpoint(
        "m-1", endpoint_id_for("m-1", "k"), "https://x.example/h", types, None, now=NOW, fingerprint="f"
    )


def test_the_key_names_the_endpoint_per_merchant() -> None:
    assert endpoint_id_for("m-1", "k") == endpoint_id_for("m-1", "k")
    assert endpoint_id_for("m-1", "k") != endpoint_id_for("m-2", "k")
    assert len(endpoint_id_for("m-1", "k")) == 3 + 24


def test_a_secret_is_whsec_and_43_urlsafe_characters() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and len(secret) == 6 + 43
    assert set(secret[6:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert new_secret() != secret


@pytest.mark.parametrize(
    ("types", "reason"),
    [
        ([], "at least one"),
        (["payment.refunded"], "unknown event type"),
        (["*", "payment.failed"], "alone"),
    ],
)
def test_subscriptions_name_known_types_or_star_alone(types: list[str], reason: str) -> None:
    with pytest.raises(InvalidEndpoint) as refused:
        enabled_events(types)
    assert refused.value.field == "body.enabled_events" and reason in refused.value.reason


def test_an_endpoint_wants_its_types_only_and_star_wants_all() -> None:
    assert enabled_events(["refund.failed", "refund.failed", "payment.failed"]) == ("refund.failed", "payment.failed")
    some = endpoint(("refund.failed",))
    assert some.wants("refund.failed") and not some.wants("payment.succeeded")
    assert endpoint().wants("payout.paid")


def test_given_a_current_secret_when_rotated_with_grace_then_both_sign_until_it_ends() -> None:
    given_endpoint = endpoint()
    old = given_endpoint.current_secret
    after = rotate(given_endpoint, now=NOW, grace_period_s=3600, key="r1", new="whsec_new")
    assert after.current_secret == "whsec_new" and after.rotation_key == "r1"
    assert after.live_secrets(NOW + 3599) == ("whsec_new", old)
    assert after.live_secrets(NOW + 3600) == ("whsec_new",)


def test_an_endpoint_remembers_its_latest_rotations_keys() -> None:
    rotated_endpoint = endpoint()
    for n in range(ROTATION_KEYS_KEPT + 5):
        rotated_endpoint = rotate(rotated_endpoint, now=NOW, grace_period_s=0, key=f"r{n}")
    assert rotated_endpoint.rotation_key == f"r{ROTATION_KEYS_KEPT + 4}"
    assert rotated_endpoint.rotated_under("r5") and not rotated_endpoint.rotated_under("r4")
    assert len(rotated_endpoint.secrets) == 1  # no grace: only the current one signs


def test_a_rotation_without_grace_drops_the_old_secret_at_once() -> None:
    after = rotated((Secret("whsec_old"),), now=NOW, grace_period_s=0, new="whsec_new")
    assert after == (Secret("whsec_new"),)


@pytest.mark.parametrize("grace", [-1, MAX_GRACE_S + 1])
def test_a_grace_beyond_seven_days_or_negative_is_refused(grace: int) -> None:
    with pytest.raises(InvalidEndpoint) as refused:
        rotated((Secret("whsec_old"),), now=NOW, grace_period_s=grace)
    assert refused.value.field == "body.grace_period_s"


@given(
    st.lists(st.tuples(st.integers(0, 100_000), st.integers(0, MAX_GRACE_S)), min_size=1, max_size=8),
    st.integers(0, 2 * MAX_GRACE_S),
)
def test_rotations_keep_exactly_the_live_secrets(rotations: list[tuple[int, int]], later: int) -> None:
    """Whatever the rotations and their graces: one current secret, and every other one kept is exactly a
    replaced secret whose grace has not ended — so what signs is what a receiver may still hold."""
    secrets: tuple[Secret, ...] = (Secret("whsec_0"),)
    expiry: dict[str, int] = {}
    now = NOW
    for n, (gap, grace) in enumerate(rotations, start=1):
        now += gap
        expiry[secrets[0].secret] = now + grace
        secrets = rotated(secrets, now=now, grace_period_s=grace, new=f"whsec_{n}")
        assert [s for s in secrets if s.expires_at is None] == [Secret(f"whsec_{n}")]
        kept = {s.secret for s in secrets[1:]}
        assert kept == {old for old, ends in expiry.items() if now < ends}
    live = {s.secret for s in secrets if s.live(now + later)}
    assert live == {secrets[0].secret} | {old for old, ends in expiry.items() if now + later < ends}
