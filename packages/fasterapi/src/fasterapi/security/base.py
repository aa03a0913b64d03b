from __future__ import annotations

from fasterapi.openapi.models import SecurityBase as SecurityBaseModel


class SecurityBase:
    """A security scheme: a dependency that also declares itself in the OpenAPI document."""

    model: SecurityBaseModel
    scheme_name: str
