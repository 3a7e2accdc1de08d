from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from graph.api.identity import AuthenticationError, Principal, Role
from graph.http.auth import TokenAuthority
from graph.settings import is_loopback

SECRET = "s" * 32


def test_a_minted_token_verifies_to_its_subject_and_role() -> None:
    authority = TokenAuthority(SECRET)
    token = authority.mint("cust-1", Role.CUSTOMER)
    assert authority.from_authorization(f"Bearer {token}") == Principal(
        subject="cust-1", role=Role.CUSTOMER
    )


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer   ", "Basic abc", "Bearer not-a-jwt"],
)
def test_missing_or_malformed_credentials_are_refused(header: str | None) -> None:
    with pytest.raises(AuthenticationError):
        TokenAuthority(SECRET).from_authorization(header)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = TokenAuthority("x" * 32).mint("cust-1", Role.ADMIN)
    with pytest.raises(AuthenticationError, match="not valid"):
        TokenAuthority(SECRET).verify(token)


def test_an_expired_token_is_refused() -> None:
    authority = TokenAuthority(SECRET)
    token = authority.mint("cust-1", Role.STAFF, ttl=timedelta(seconds=-1))
    with pytest.raises(AuthenticationError, match="expired"):
        authority.verify(token)


def test_an_unknown_role_or_algorithm_none_is_refused() -> None:
    forged = jwt.encode(
        {"sub": "a", "role": "root", "iss": "ordergraph", "exp": 4102444800}, SECRET, "HS256"
    )
    with pytest.raises(AuthenticationError, match="role"):
        TokenAuthority(SECRET).verify(forged)
    unsigned = jwt.encode(
        {"sub": "a", "role": "admin", "iss": "ordergraph", "exp": 4102444800}, None, "none"
    )
    with pytest.raises(AuthenticationError):
        TokenAuthority(SECRET).verify(unsigned)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenAuthority("short")


def test_staff_and_admins_act_for_no_customer() -> None:
    assert Principal(subject="s", role=Role.STAFF).acting_customer is None
    assert Principal(subject="a", role=Role.ADMIN).acting_customer is None
    assert Principal(subject="c", role=Role.CUSTOMER).acting_customer == "c"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
        ("example.com", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
