"""System checks: `manage.py check` reports what the middleware would
refuse to start on, and what it cannot see from its own settings."""
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from . import conf
from .decorators import policy_of

MIDDLEWARE = "approov_django.middleware.ApproovMiddleware"


def check_settings(app_configs=None, **kwargs):
    """Every settings problem as an Error (approov_django.E001), every
    setting without effect as a Warning (W001)."""
    _, errors, warnings = conf.load(settings)
    return ([Error(e, id="approov_django.E001") for e in errors]
            + [Warning(w, id="approov_django.W001") for w in warnings])


def check_middleware(app_configs=None, **kwargs):
    """The middleware must be installed (E002), and first (W002): a
    middleware before it runs for requests that should be refused."""
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if MIDDLEWARE not in middleware:
        return [Error("%s is not in MIDDLEWARE: no request is checked" % MIDDLEWARE,
                      hint="Add it first in MIDDLEWARE.", id="approov_django.E002")]
    before = middleware[:middleware.index(MIDDLEWARE)]
    if before:
        return [Warning("%s is not first in MIDDLEWARE: %s run before the check" % (MIDDLEWARE, ", ".join(before)),
                        hint="Move it first, so that refused requests cost nothing and reach nothing.",
                        id="approov_django.W002")]
    return []


def check_views(app_configs=None, **kwargs):
    """A view that needs binding (approov_required(binding=...)) with
    APPROOV_BINDING_OPTIONAL set accepts tokens without binding (W003)."""
    if not conf._boolean(getattr(settings, "APPROOV_BINDING_OPTIONAL", False) or False):
        return []
    from django.urls import get_resolver

    found = []

    def walk(patterns):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                walk(p.url_patterns)
                continue
            policy = policy_of(p.callback)
            if policy is not None and policy.binding:
                found.append(str(p.pattern))
    try:
        walk(get_resolver().url_patterns)
    except Exception:  # noqa: BLE001 - the URL checks report a broken URLconf
        return []
    if found:
        return [Warning("APPROOV_BINDING_OPTIONAL is set: views that require binding (%s) accept tokens "
                        "without a pay claim" % ", ".join(found[:5]), id="approov_django.W003")]
    return []


def register_checks():
    """Registers the checks with Django (AppConfig.ready calls it)."""
    register(check_settings, Tags.security)
    register(check_middleware, Tags.security)
    register(check_views, Tags.security, Tags.urls)
