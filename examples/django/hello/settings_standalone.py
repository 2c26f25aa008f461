"""Settings for the hello API without a gateway: approov_django checks
Approov tokens inside Django itself (APPROOV_MODE = "in_process"), with the
gateway's rules."""
import os

from .settings import *  # noqa: F401,F403

APPROOV_MODE = "in_process"
APPROOV_ASSERTION_SECRET = None
# The account's secret: approov secret -get base64.
APPROOV_BASE64_SECRET = os.environ["APPROOV_BASE64_SECRET"]
