"""Verified tokens are remembered, and only what verified is: a cached token still
expires, a forged one never passes, and the cache is bounded."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest

from graph.api.identity import AuthenticationError, Role
from graph.http.auth import TokenAuthority

SECRET = "a-signing-secret-of-at-least-32-bytes!"


def test_a_remembered_token_still_expires() -> None:
    authority = TokenAuthority(SECRET)
    token = authority.mint("cust-1", Role.CUSTOMER, ttl=timedelta(seconds=1))
    assert authority.verify(token).subject == "cust-1"
    assert authority.verify(token).subject == "cust-1"  # from the cache
    assert authority.cached_tokens == 1
    time.sleep(1.1)
    with pytest.raises(AuthenticationError, match="expired"):
        authority.verify(token)
    assert authority.cached_tokens == 0


def test_a_forged_token_never_passes_beside_a_remembered_one() -> None:
    authority = TokenAuthority(SECRET)
    token = authority.mint("cust-1", Role.CUSTOMER)
    authority.verify(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "role": "admin"}, "another-secret-of-at-least-32-bytes!!")
    with pytest.raises(AuthenticationError, match="not valid"):
        authority.verify(forged)
    header, payload, signature = token.split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    with pytest.raises(AuthenticationError):
        authority.verify(f"{header}.{payload}.{flipped}")
    assert authority.cached_tokens == 1


def test_the_cache_keeps_the_most_recently_used_tokens_only() -> None:
    authority = TokenAuthority(SECRET, cache_size=2)
    tokens = [authority.mint(f"cust-{i}", Role.CUSTOMER) for i in range(3)]
    for token in tokens:
        authority.verify(token)
    assert authority.cached_tokens == 2
    assert [authority.verify(token).subject for token in tokens] == ["cust-0", "cust-1", "cust-2"]
    assert authority.cached_tokens == 2
