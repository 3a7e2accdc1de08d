"""What every transport of /graphql shares: the pipeline (`prepare`, `run`), the running
services, and who is calling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from graph.api.identity import DEVELOPMENT_PRINCIPAL, AuthenticationError, Principal

if TYPE_CHECKING:
    from collections.abc import Callable

    from graph.api.context import Services
    from graph.http.auth import TokenAuthority
    from graph.pipeline.prepare import Prepared, Preparer
    from graph.pipeline.run import Runner


@dataclass(frozen=True, slots=True)
class Serving:
    """The pipeline, the services once started, and the token authority (None: development
    mode, every caller an admin)."""

    preparer: Preparer
    runner: Runner
    services: Callable[[], Services | None]
    authority: TokenAuthority | None

    async def prepare(self, text: str, name: str | None) -> Prepared:
        """The prepared operation (cached, else prepared now); `Refused` when it cannot run."""
        return self.preparer.find(text, name) or await self.preparer.prepare(text, name)

    def authenticate(self, authorization: object) -> tuple[Principal | None, str | None]:
        """The caller an Authorization value names, or None and why not."""
        if self.authority is None:
            return DEVELOPMENT_PRINCIPAL, None
        if isinstance(authorization, bytes):
            authorization = authorization.decode("latin-1")
        if authorization is not None and not isinstance(authorization, str):
            return None, "Authorization must be a string 'Bearer <token>'"
        try:
            return self.authority.from_authorization(authorization), None
        except AuthenticationError as error:
            return None, str(error)


__all__ = ["Serving"]
