"""Settings of the test project: gateway mode, with a throwaway key.
Tests switch mode and settings with override_settings."""
import os

SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "api.example.com"]
ROOT_URLCONF = "testproject.urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "approov_django"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
MIDDLEWARE = ["approov_django.middleware.ApproovMiddleware"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# Throwaway keys, made for these tests: never use them anywhere else.
ASSERTION_KEY = "0dS8UuM3g7VtC0aNmZVnqC6pKfW2xYbE9rT4lJhQ1sA="
TOKEN_SECRET = "tSg7p2kQ9vXbN4mW1cR8yZ3dF6hJ0aL5eU2iO7sG9qVx4nB1mK8wE3rT6yP0zA5cD2fH7jL9uI4oS1gQ3vN8bw=="

APPROOV_MODE = "gateway"
APPROOV_ASSERTION_SECRET = ASSERTION_KEY

REST_FRAMEWORK = {"UNAUTHENTICATED_USER": None}
# Quiet by default; APPROOV_TEST_LOG=1 shows the approov logger's lines.
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"null": {"class": "logging.NullHandler"}, "console": {"class": "logging.StreamHandler"}},
           "loggers": {"approov": {"handlers": ["console" if os.environ.get("APPROOV_TEST_LOG") else "null"],
                                   "level": "DEBUG", "propagate": False}}}
