"""Tokens and assertions for a Django project's own tests.

    from approov_django.testing import approov_headers

    def test_orders(self):
        r = self.client.get("/orders", **approov_headers(did="phone-1"))

approov_headers reads the project's settings: in gateway mode it signs an
assertion as approov-gateway would, with the first APPROOV_ASSERTION_SECRET
key; in in_process mode it signs a token with APPROOV_BASE64_SECRET. Never
use these outside tests: whoever holds the secret can mint tokens.
"""
import base64
import secrets
import time
from typing import Any, Dict, Mapping, Optional, Union

import jwt
from django.conf import settings

from . import conf
from ._request import meta_key
from .assertion import ASSERTION_ISSUER, ASSERTION_TYPE, DEFAULT_AUDIENCE, binding_hash, key_id, parse_keys
from .tokens import DEFAULT_TOKEN_HEADER, parse_secret, payload_hash

Bind = Union[None, str, Mapping[str, str]]


def _bound(bind: Bind) -> Dict[str, str]:
    """bind as header name to value: a str binds Authorization."""
    if bind is None:
        return {}
    if isinstance(bind, str):
        return {"Authorization": bind}
    return dict(bind)


def make_token(*, secret: Union[None, str, bytes] = None, did: Optional[str] = "test-device",
               expires_in: float = 300, bind: Bind = None, kid: Optional[str] = None,
               claims: Optional[Mapping[str, Any]] = None) -> str:
    """An HS256 Approov token: did, exp in expires_in seconds (negative:
    expired), pay binding it to bind (a header value, or several as a
    mapping, in order), and any further claims. secret defaults to
    settings.APPROOV_BASE64_SECRET."""
    if secret is None:
        secret = getattr(settings, "APPROOV_BASE64_SECRET", None)
        if not secret:
            raise ValueError("make_token: no secret given and settings.APPROOV_BASE64_SECRET is not set")
    key = parse_secret(secret) if isinstance(secret, str) else secret
    body: Dict[str, Any] = {"exp": int(time.time() + expires_in)}
    if did is not None:
        body["did"] = did
    values = list(_bound(bind).values())
    if values:
        body["pay"] = payload_hash(values[0] if len(values) == 1 else "".join(v.strip() for v in values))
    body.update(claims or {})
    return jwt.encode(body, key, algorithm="HS256", headers={"kid": kid} if kid else None)


def make_assertion(*, method: str = "GET", host: str = "testserver", target: Optional[str] = None,
                   result: str = "ok", did: Optional[str] = "test-device", token_expiry: Optional[int] = None,
                   claims: Optional[Mapping[str, str]] = None, bind: Bind = None,
                   secret: Optional[str] = None, audience: Optional[str] = None, lifetime: int = 60,
                   issued_at: Optional[int] = None) -> str:
    """An Approov-Assertion as approov-gateway signs it (docs/ASSERTION.md):
    for method, Host and, when given, the raw request-target (without it,
    the assertion binds method and Host only); result, did and tex; the
    forwarded claims; and bnh/bnd over the headers of bind. secret
    defaults to settings.APPROOV_ASSERTION_SECRET (its first key signs)."""
    key = parse_keys(secret or getattr(settings, "APPROOV_ASSERTION_SECRET", None) or "")[0]
    now = int(time.time()) if issued_at is None else issued_at
    body: Dict[str, Any] = {
        "iss": ASSERTION_ISSUER,
        "aud": audience or getattr(settings, "APPROOV_ASSERTION_AUDIENCE", None) or DEFAULT_AUDIENCE,
        "iat": now,
        "exp": now + lifetime,
        "jti": base64.urlsafe_b64encode(secrets.token_bytes(16)).decode("ascii").rstrip("="),
        "result": result,
    }
    if did and result == "ok":
        body["did"] = did
    if result == "ok":
        body["tex"] = int(time.time() + 300) if token_expiry is None else token_expiry
    if claims:
        body["clm"] = {k: v for k, v in claims.items() if v}
    body["htm"] = method
    body["hth"] = host
    if target is not None:
        body["htu"] = target
    bound = _bound(bind)
    if bound:
        names = [n.lower() for n in bound]
        body["bnh"] = names
        body["bnd"] = binding_hash({n.lower(): v for n, v in bound.items()}, names).decode("ascii")
    return jwt.encode(body, key, algorithm="HS256", headers={"typ": ASSERTION_TYPE, "kid": key_id(key)})


def approov_headers(*, method: str = "GET", path: Optional[str] = None, host: str = "testserver",
                    did: Optional[str] = "test-device", bind: Bind = None, result: str = "ok",
                    claims: Optional[Mapping[str, str]] = None, **token_options) -> Dict[str, str]:
    """Keyword arguments for Django's test client (request.META names)
    that pass ApproovMiddleware as the project is configured: an assertion
    in gateway mode (for method and Host, and for path when given: pass the
    same path as the request, query included), a token in in_process mode;
    plus the headers of bind. token_options go to make_token. For
    Django 3.2's AsyncClient, pass asgi_headers(approov_headers(...))."""
    mode = getattr(settings, "APPROOV_MODE", conf.GATEWAY)
    headers = {meta_key(name): value for name, value in _bound(bind).items()}
    if mode == conf.IN_PROCESS:
        name = getattr(settings, "APPROOV_TOKEN_HEADER", None) or DEFAULT_TOKEN_HEADER
        token = make_token(did=did, bind=bind, claims=claims, **token_options)
        headers[meta_key(name)] = getattr(settings, "APPROOV_TOKEN_PREFIX", "") + token
        return headers
    prefix = getattr(settings, "APPROOV_FORWARD_HEADER_PREFIX", None) or "Approov-"
    headers["HTTP_HOST"] = host  # the test client sends none, and hth binds it
    headers[meta_key(prefix + "Assertion")] = make_assertion(
        method=method, host=host, target=path, result=result, did=did, claims=claims, bind=bind)
    return headers


def asgi_headers(meta: Mapping[str, str]) -> Dict[str, str]:
    """approov_headers for Django 3.2's AsyncClient, which takes request
    headers by their names (newer Django converts HTTP_ names itself). Its
    requests always carry Host: testserver, so Host is left out."""
    out = {}
    for key, value in meta.items():
        name = (key[5:] if key.startswith("HTTP_") else key).lower().replace("_", "-")
        if name != "host":
            out[name] = value
    return out
