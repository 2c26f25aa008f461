"""Settings for the hello API behind approov-gateway.

The gateway checks every Approov token before a request gets here and
signs what it verified into the Approov-Assertion header; approov_django's
middleware checks that assertion on every request (docs/ASSERTION.md) and
turns it into request.approov. Forged or replayed facts get 401, and so
does anything that did not come through the gateway. Deploy so that this
server is reachable only from the gateway anyway (bind it to 127.0.0.1, a
Unix socket or a private network).
"""
import os

# Django's own signing key, unrelated to Approov. Set it in production.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret")
DEBUG = False
# localhost: what the gateway sends as Host over a Unix socket.
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

ROOT_URLCONF = "hello.urls"
WSGI_APPLICATION = "hello.wsgi.application"
INSTALLED_APPS = ["approov_django"]
DATABASES = {}
USE_TZ = True

MIDDLEWARE = [
    # First, so that a refused request costs nothing more and reaches nothing.
    "approov_django.middleware.ApproovMiddleware",
]

APPROOV_MODE = "gateway"
# The keys the gateway signs assertions with (its assertion_secret:
# comma-separated, base64; the gateway signs with the first, any verifies).
# Missing or bad: Django refuses to start.
APPROOV_ASSERTION_SECRET = os.environ.get("APPROOV_ASSERTION_SECRET", "")
APPROOV_ASSERTION_AUDIENCE = os.environ.get("APPROOV_ASSERTION_AUDIENCE", "approov-backend")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
