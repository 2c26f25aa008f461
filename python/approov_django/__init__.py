"""approov-django: lock a Django API to its genuine mobile app with Approov.

Behind approov-gateway (APPROOV_MODE = "gateway", the default) the
middleware checks the gateway's signed assertion; on its own
(APPROOV_MODE = "in_process") it checks Approov tokens itself, as strictly
as the gateway does. Either way views read request.approov.

    INSTALLED_APPS = [..., "approov_django"]
    MIDDLEWARE = ["approov_django.middleware.ApproovMiddleware", ...]

See the README and docs/quickstart-django.md.
"""

__version__ = "0.1.0"
