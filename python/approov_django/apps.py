"""The Django app: add "approov_django" to INSTALLED_APPS for its checks."""
from django.apps import AppConfig


class ApproovConfig(AppConfig):
    """Registers the system checks of approov_django.checks."""

    name = "approov_django"
    verbose_name = "Approov"

    def ready(self):
        from .checks import register_checks

        register_checks()
