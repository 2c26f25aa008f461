"""The hello API with no Approov check at all: the benchmark's floor, what
Django costs by itself. Never deploy it."""
from .settings import *  # noqa: F401,F403

INSTALLED_APPS = []
MIDDLEWARE = []
