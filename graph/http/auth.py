"""Who is calling: signed bearer tokens (HS256 JWTs) with a subject and a role.

With no signing secret the service runs in development mode: every caller is an anonymous
admin, and the service refuses to listen on anything but a loopback address.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import jwt

from graph.api.identity import AuthenticationError, Principal, Role

ALGORITHM = "HS256"
ISSUER = "ordergraph"
MIN_SECRET_BYTES = 32
# Verified tokens remembered (by digest), so a client's next request skips the signature check.
VERIFIED_CACHE_SIZE = 4096


_ROLES = frozenset(role.value for role in Role)


def _expiry(exp: object) -> float | None:
    """The `exp` claim PyJWT has already checked to be a number."""
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


class TokenAuthority:
    """Mints and verifies ordergraph's bearer tokens.

    A token that verified is remembered by its text (at most `cache_size`, the least recently
    used dropped first), and its expiry is checked again on every hit: only a valid signature
    ever enters the cache, so an entry is as small as the tokens this service's secret signs, and
    nothing but time can make a verified token invalid (there is no revocation, see
    SECURITY.md). A lookup costs the string's hash (a SHA-256 digest cost 3 us a request)."""

    def __init__(self, secret: str, *, cache_size: int = VERIFIED_CACHE_SIZE) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"the signing secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        self._cache_size = cache_size
        self._verified: OrderedDict[str, Principal] = OrderedDict()

    @property
    def cached_tokens(self) -> int:
        """How many verified tokens are remembered now."""
        return len(self._verified)

    def mint(self, subject: str, role: Role, *, ttl: timedelta = timedelta(hours=12)) -> str:
        """A signed token for `subject` with `role`, valid for `ttl`."""
        now = datetime.now(UTC)
        claims = {"sub": subject, "role": role.value, "iss": ISSUER, "iat": now, "exp": now + ttl}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        """The principal a token names; AuthenticationError when it is not valid now."""
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at is not None and time.time() >= known.expires_at:
                del self._verified[token]
                raise AuthenticationError("the token has expired")
            self._verified.move_to_end(token)
            return known
        principal = self._check(token)
        self._verified[token] = principal
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)
        return principal

    def _check(self, token: str) -> Principal:
        """Verify the signature and the claims (PyJWT)."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iss"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise AuthenticationError("the token has expired") from error
        except jwt.InvalidTokenError as error:
            raise AuthenticationError(f"the token is not valid: {error}") from error
        except (ValueError, TypeError, OverflowError, RecursionError) as error:
            # A signed payload PyJWT cannot check (an `exp` of Infinity, deep nesting).
            raise AuthenticationError("the token is not valid: unreadable claims") from error
        subject, role = claims.get("sub"), claims.get("role")
        if not isinstance(subject, str) or not subject:
            raise AuthenticationError("the token has no subject")
        if not isinstance(role, str) or role not in _ROLES:
            shown = repr(role) if isinstance(role, str) else f"of type {type(role).__name__}"
            raise AuthenticationError(f"the token's role {shown[:64]} is not known")
        return Principal(subject=subject, role=Role(role), expires_at=_expiry(claims.get("exp")))

    def from_authorization(self, value: str | None) -> Principal:
        """The principal of an `Authorization: Bearer <token>` value."""
        if not value:
            raise AuthenticationError("missing credentials: send Authorization: Bearer <token>")
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
        return self.verify(token.strip())


__all__ = ["TokenAuthority"]
