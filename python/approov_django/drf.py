"""Django REST framework: ApproovAuthentication and IsApproovVerified.

Both read request.approov, which ApproovMiddleware sets; give DRF views the
policy approov_optional (or APPROOV_DEFAULT_POLICY = "optional") so that
the middleware checks the token but leaves the answer to DRF:

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": [..., "approov_django.drf.ApproovAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["approov_django.drf.IsApproovVerified", ...],
    }
"""
from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission


class NotVerified(exceptions.APIException):
    """401 with the body {}: responses never say why a token failed."""

    status_code = 401
    default_detail = {}
    default_code = "approov_not_verified"


def _facts(request):
    return getattr(getattr(request, "_request", request), "approov", None)


class ApproovAuthentication(BaseAuthentication):
    """Authenticates the app, not a user: with a verified token,
    request.user is AnonymousUser and request.auth the ApproovFacts. List
    it after the classes that authenticate users, which take precedence."""

    def authenticate(self, request):
        facts = _facts(request)
        if facts is None or not facts.verified:
            return None
        return AnonymousUser(), facts

    def authenticate_header(self, request):
        return "Approov"


class IsApproovVerified(BasePermission):
    """Allows the request only with a verified Approov token (and binding,
    where the view requires one); otherwise 401 {}."""

    def has_permission(self, request, view):
        facts = _facts(request)
        if facts is None or not facts.verified:
            raise NotVerified()
        return True
