"""Who is asking: an API key names a tenant, and a tenant sees only its own contexts.

``Authorization: Bearer <key>``; keys are made with ``sleeptime keys create``.
With no active key in the database the server is single-user (tenant
``default``, the CLI's), but only while it is bound to a loopback address and
the request comes from one: ``sleeptime serve`` refuses a public address
without keys, and this check holds even if the app is served some other way.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..store.keys import KeyStore
from .errors import AuthenticationError

SINGLE_USER_TENANT = "default"

bearer = HTTPBearer(
    auto_error=False,
    description="An API key from `sleeptime keys create --tenant NAME`. Not needed in single-user mode.",
)


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Authenticator:
    def __init__(self, keys: KeyStore, *, host: str) -> None:
        self.keys = keys
        self.host = host

    def tenant(self, request: Request, credentials: HTTPAuthorizationCredentials | None) -> str:
        key = credentials.credentials if credentials is not None else ""
        if key:
            tenant = self.keys.tenant_of(key)
            if tenant is not None:
                return tenant
        if self.single_user(request):
            # Any key is accepted, since none is needed: clients such as openai's insist on one.
            return SINGLE_USER_TENANT
        raise AuthenticationError("unknown or revoked API key" if key else "this server needs an API key")

    def single_user(self, request: Request) -> bool:
        client = request.client.host if request.client is not None else None
        return is_loopback(self.host) and is_loopback(client) and not self.keys.any_active()


def current_tenant(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> str:
    """FastAPI dependency: the tenant the request acts for."""
    auth: Authenticator = request.app.state.auth
    return auth.tenant(request, credentials)


Tenant = Annotated[str, Depends(current_tenant)]
