"""ApproovGatewayMiddleware: the facts approov-gateway verified, as request.approov.

Add it first in MIDDLEWARE:

    MIDDLEWARE = ["approov_gateway_django.middleware.ApproovGatewayMiddleware", ...]

approov-gateway forwards, by default, these headers (Django sees them in
request.META with HTTP_ in front, dashes as underscores):

    Approov-Result        ok; public on public routes; in monitor mode the
                          reason the token failed (token_expired, ...)
    Approov-Device-Id     the token's did claim
    Approov-Token-Expiry  the token's exp, Unix seconds

request.approov then has .result, .device_id, .expiry (an aware datetime)
and .verified (result == "ok").

Settings:
    APPROOV_REQUIRE_GATEWAY   refuse (401 {}) requests without a verdict from
                              the gateway; default False
    APPROOV_FORWARD_HEADER_PREFIX
                              the gateway's forward_header_prefix; default
                              "Approov-"

Why the headers can be trusted: Django must be reachable only from the
gateway (bind gunicorn to 127.0.0.1 or a private address), and the gateway
removes every client-sent header in its namespace, in any spelling, before
forwarding. As a second line, a fact that arrives twice is refused with 400:
gunicorn joins headers that map to the same WSGI name with a comma, which is
what a forged Approov_Device_Id next to a real Approov-Device-Id looks like.
"""
from datetime import datetime, timezone

from django.conf import settings
from django.http import JsonResponse


class ApproovFacts:
    """What is known of the caller's Approov token."""

    __slots__ = ("result", "device_id", "expiry")

    def __init__(self, result=None, device_id=None, expiry=None):
        self.result = result
        self.device_id = device_id
        self.expiry = expiry

    @property
    def verified(self):
        """True when the token (and its binding, if required) was valid."""
        return self.result == "ok"

    def __repr__(self):
        return "ApproovFacts(result=%r, device_id=%r, expiry=%r)" % (self.result, self.device_id, self.expiry)


def _meta_key(prefix, name):
    return "HTTP_" + (prefix + name).upper().replace("-", "_")


class ApproovGatewayMiddleware:
    """Sets request.approov from the headers approov-gateway forwards."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.require = getattr(settings, "APPROOV_REQUIRE_GATEWAY", False)
        prefix = getattr(settings, "APPROOV_FORWARD_HEADER_PREFIX", "Approov-")
        self.keys = {
            "result": _meta_key(prefix, "Result"),
            "device_id": _meta_key(prefix, "Device-Id"),
            "expiry": _meta_key(prefix, "Token-Expiry"),
        }

    def __call__(self, request):
        values = {}
        for field, key in self.keys.items():
            value = request.META.get(key)
            if value is not None and "," in value:
                # The same fact twice: one copy did not come from the gateway.
                return JsonResponse({}, status=400)
            values[field] = value or None
        if self.require and values["result"] is None:
            return JsonResponse({}, status=401)
        expiry = None
        if values["expiry"] is not None:
            try:
                expiry = datetime.fromtimestamp(int(values["expiry"]), tz=timezone.utc)
            except (ValueError, OverflowError, OSError):
                return JsonResponse({}, status=400)
        request.approov = ApproovFacts(values["result"], values["device_id"], expiry)
        return self.get_response(request)
