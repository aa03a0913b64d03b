from __future__ import annotations

from fasterapi.exceptions import HTTPException
from fasterapi.openapi.models import OpenIdConnect as OpenIdConnectModel
from fasterapi.requests import HTTPConnection
from fasterapi.security.base import SecurityBase


class OpenIdConnect(SecurityBase):
    """OpenID Connect: returns the raw `Authorization` header value."""

    def __init__(
        self,
        *,
        openIdConnectUrl: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = OpenIdConnectModel(openIdConnectUrl=openIdConnectUrl, description=description)
        self.scheme_name = scheme_name or self.__class__.__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        return HTTPException(
            status_code=401, detail="Not authenticated", headers={"WWW-Authenticate": "Bearer"}
        )

    async def __call__(self, request: HTTPConnection) -> str | None:
        authorization: str | None = request.headers.get("Authorization")
        if not authorization:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return authorization
