"""Settings for the hello API behind approov-gateway.

The gateway checks every Approov token before a request gets here, and
forwards what it verified; ApproovGatewayMiddleware turns that into
request.approov. Django itself holds no Approov secret in this mode.

With APPROOV_ASSERTION_SECRET set to the gateway's assertion_secret, the
facts come from the signed Approov-Assertion header only (docs/ASSERTION.md):
forged or replayed facts get 401. Without it, they come from plain headers,
trustworthy only because the gateway is the only client and removes any
copies a client sent. Either way, deploy so that this server is reachable
only from the gateway (bind it to 127.0.0.1 or a private network).
"""
import os

# Django's own signing key, unrelated to Approov. Set it in production.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

ROOT_URLCONF = "hello.urls"
WSGI_APPLICATION = "hello.wsgi.application"
INSTALLED_APPS = []
DATABASES = {}
USE_TZ = True

MIDDLEWARE = [
    # First, so that a request with forged facts costs nothing more.
    "approov_gateway_django.middleware.ApproovGatewayMiddleware",
]

# Refuse requests that carry no verdict from the gateway (401). The gateway
# sets Approov-Result on every request it forwards, public routes included.
APPROOV_REQUIRE_GATEWAY = os.environ.get("APPROOV_REQUIRE_GATEWAY", "false").lower() == "true"

# Signed facts: the keys the gateway signs assertions with (comma-separated,
# base64; the first is the gateway's current one) and the audience it signs
# for. Empty: the unsigned headers above. A bad key stops Django at start-up.
APPROOV_ASSERTION_SECRET = os.environ.get("APPROOV_ASSERTION_SECRET", "")
APPROOV_ASSERTION_AUDIENCE = os.environ.get("APPROOV_ASSERTION_AUDIENCE", "approov-backend")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
