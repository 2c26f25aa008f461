"""ApproovTokenMiddleware: Approov token (and binding) checks inside Django, with PyJWT.

Placed first in MIDDLEWARE so that a rejected request costs as little as
possible, as the reference integration advises. It answers 401 {} when the
token is missing or invalid, and, with APPROOV_TOKEN_BINDING_HEADER set,
when the token's pay claim is not the base64 SHA-256 of that header.

Like the reference, it calls PyJWT with algorithms=["HS256"] and default
options, so it accepts a token without exp; approov-gateway does not.
"""
import base64
import hashlib
import hmac
from datetime import datetime, timezone

import jwt
from django.conf import settings
from django.http import JsonResponse

from approov_django.facts import ApproovFacts


class ApproovTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.secret = base64.b64decode(settings.APPROOV_BASE64_SECRET)
        self.binding_header = getattr(settings, "APPROOV_TOKEN_BINDING_HEADER", None)

    def __call__(self, request):
        claims = self.verify(request)
        if claims is None:
            return JsonResponse({}, status=401)
        expiry = claims.get("exp")
        request.approov = ApproovFacts(
            "ok",
            claims.get("did"),
            datetime.fromtimestamp(int(expiry), tz=timezone.utc) if isinstance(expiry, (int, float)) else None,
        )
        return self.get_response(request)

    def verify(self, request):
        """The token's claims, or None when the request must be refused."""
        token = request.headers.get("Approov-Token")
        if not token:
            return None
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            return None
        if self.binding_header and not self.binding_ok(request, claims):
            return None
        return claims

    def binding_ok(self, request, claims):
        pay = claims.get("pay")
        value = request.headers.get(self.binding_header)
        if not isinstance(pay, str) or not value:
            return False
        expected = base64.b64encode(hashlib.sha256(value.encode("utf-8")).digest()).decode("ascii")
        return hmac.compare_digest(pay, expected)
