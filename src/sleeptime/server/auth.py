"""Who is asking: an API key names a tenant, and a tenant sees only its own contexts.

``Authorization: Bearer <key>``, exactly as RFC 6750 section 2.1 writes it:
``credentials = "Bearer" 1*SP b64token``. ABNF strings are case-insensitive
(RFC 5234 section 2.3), so ``bearer`` is the same scheme, and ``1*SP`` allows
one or more spaces; a token is letters, digits and ``-._~+/``, then any ``=``.
Anything else (a tab, a second token, a comma, quotes, an empty token, two
Authorization headers) is a malformed request: 400 with
``WWW-Authenticate: Bearer error="invalid_request"``. An unknown or revoked key
is 401 with ``error="invalid_token"``; no header at all where a key is needed is
401 with a bare ``Bearer`` challenge (section 3).

Keys are made with ``sleeptime keys create``. A database that has never had a
key is single-user (tenant ``default``, the CLI's), but only while the server is
bound to a loopback address and the request comes from one. Once any key has
been created, revoked or not, keys are always needed: revoking the last key
locks the server rather than opening it.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timezone
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from ..store.keys import KeyStore
from . import quotas
from .errors import AuthenticationError, MalformedAuthorizationError

SINGLE_USER_TENANT = "default"

# RFC 6750 section 2.1; the scheme is case-insensitive (RFC 5234 section 2.3, RFC 7235 section 2.1).
CREDENTIALS = re.compile(r"(?i:bearer) +([A-Za-z0-9\-._~+/]+=*)")

# Declares the security scheme in the OpenAPI document; parsing is ``parse_authorization``'s.
bearer = HTTPBearer(
    auto_error=False,
    description="An API key from `sleeptime keys create --tenant NAME`, as `Authorization: Bearer <key>` "
    "(RFC 6750). Not needed in single-user mode.",
)


def parse_authorization(values: list[str]) -> str | None:
    """The token of the request's Authorization header(s); None when there is none."""
    if not values:
        return None
    if len(values) > 1:
        raise MalformedAuthorizationError("more than one Authorization header")
    match = CREDENTIALS.fullmatch(values[0])
    if match is None:
        raise MalformedAuthorizationError(
            "malformed Authorization header: expected `Bearer <key>` (RFC 6750: the scheme, one or more "
            "spaces, then one token of letters, digits and -._~+/ with optional trailing =)"
        )
    return match.group(1)


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

    def tenant(self, request: Request) -> str:
        key = parse_authorization(request.headers.getlist("authorization"))
        if key is not None:
            tenant = self.keys.tenant_of(key)
            if tenant is not None:
                return tenant
        if self.single_user(request):
            # Any well-formed key is accepted, since none is needed: clients such as openai's insist on one.
            return SINGLE_USER_TENANT
        if key is None:
            raise AuthenticationError("this server needs an API key", challenge="Bearer")
        raise AuthenticationError("unknown or revoked API key", challenge='Bearer error="invalid_token"')

    def single_user(self, request: Request) -> bool:
        client = request.client.host if request.client is not None else None
        return is_loopback(self.host) and is_loopback(client) and not self.keys.any_created()


def current_tenant(request: Request, _: Annotated[object, Depends(bearer)]) -> str:
    """FastAPI dependency: the tenant the request acts for, counted against its quota."""
    auth: Authenticator = request.app.state.auth
    tenant = auth.tenant(request)
    quotas.admit(request, tenant, datetime.now(timezone.utc))
    return tenant


Tenant = Annotated[str, Depends(current_tenant)]
