"""A test probe, not a way to run: the facts approov-gateway forwards as
plain headers (Approov-Result, Approov-Device-Id, Approov-Token-Expiry),
read as request.approov.

The end-to-end tests run Django with it (hello.settings_unsigned) to prove
that the documented front proxies remove every client-sent copy of those
headers, for backends that read them unsigned. A Django project uses
approov_django, which reads only the signed assertion.
"""
from datetime import datetime, timezone

from django.conf import settings
from django.http import JsonResponse

from approov_django.facts import ApproovFacts

_FACTS = {"result": "HTTP_APPROOV_RESULT", "device_id": "HTTP_APPROOV_DEVICE_ID", "expiry": "HTTP_APPROOV_TOKEN_EXPIRY"}


class UnsignedFactsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.require = getattr(settings, "APPROOV_REQUIRE_GATEWAY", True)

    def __call__(self, request):
        values = {}
        for field, key in _FACTS.items():
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
