"""Settings for the in-process alternative: Django checks Approov tokens
itself, with PyJWT, in a middleware placed first, as the reference
integration does. Used by the tests as a behavioural reference and by the
benchmarks as the baseline the gateway must beat.
"""
import os

from .settings import *  # noqa: F401,F403

INSTALLED_APPS = []
MIDDLEWARE = [
    "approov_inprocess.middleware.ApproovTokenMiddleware",
]

# Fail at start-up, not per request, when the secret is missing.
APPROOV_BASE64_SECRET = os.environ["APPROOV_BASE64_SECRET"]

# The header tokens are bound to, usually Authorization; unset for no binding.
APPROOV_TOKEN_BINDING_HEADER = os.environ.get("APPROOV_TOKEN_BINDING_HEADER") or None
