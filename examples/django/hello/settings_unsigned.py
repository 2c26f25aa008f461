"""A test probe (see hello/unsigned.py): Django reading the gateway's
unsigned fact headers, to prove the front proxies remove client copies."""
from .settings import *  # noqa: F401,F403

INSTALLED_APPS = []
MIDDLEWARE = ["hello.unsigned.UnsignedFactsMiddleware"]
APPROOV_REQUIRE_GATEWAY = True
