"""The problems every API shares: a reused Idempotency-Key, a lost race, and an amount over what there is, each
rendered as problem+json naming the field and the reason."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from payments_shared.money import Money
from payments_shared.problems import BusyProblem, KeyReusedProblem, Unprocessable, amount_over


class TooMuchProblem(Unprocessable):
    type = "urn:payments:problem:too-much"
    title = "Too much"


class StreamBusyProblem(BusyProblem):
    type = "urn:payments:problem:stream-busy"


def test_a_reused_key_is_a_422_of_its_own_type() -> None:
    body = KeyReusedProblem("this Idempotency-Key made order o-1 with a different request body").body()
    assert (body["status"], body["type"]) == (422, "urn:payments:problem:idempotency-key-reused")
    assert "o-1" in body["detail"]


def test_a_lost_race_is_a_409_of_the_services_type_telling_to_retry_with_the_same_key() -> None:
    body = StreamBusyProblem.of("payouts").body()
    assert (body["status"], body["type"]) == (409, "urn:payments:problem:stream-busy")
    assert body["detail"] == "payouts changed meanwhile: retry with the same Idempotency-Key"


@given(minor=st.integers(0, 10**12), currency=st.sampled_from(["EUR", "JPY", "KWD", "GBP"]))
def test_an_amount_over_names_body_amount_and_the_most_in_the_currencys_decimals(minor: int, currency: str) -> None:
    most = Money(minor, currency)
    problem = amount_over(TooMuchProblem, "asked too much", most, "is left")
    assert isinstance(problem, TooMuchProblem) and problem.status == 422
    [error] = problem.body()["errors"]
    assert error == {"field": "body.amount", "reason": f"at most {most.to_decimal_string()} {currency} is left"}
    assert Money.parse(error["reason"].split()[2], currency) == most
