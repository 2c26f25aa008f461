"""manage.py check: the settings problems the middleware would refuse to
start on, and where the middleware sits."""
from django.core import checks
from django.test import SimpleTestCase, override_settings


def ids(tags=None):
    return sorted(m.id for m in checks.run_checks(tags=tags) if m.id.startswith("approov_django"))


class CheckTests(SimpleTestCase):
    def test_clean(self):
        self.assertEqual(ids(), [])

    @override_settings(APPROOV_ASSERTION_SECRET=None)
    def test_gateway_mode_without_the_assertion_secret(self):
        self.assertEqual(ids(), ["approov_django.E001"])

    @override_settings(APPROOV_MODE="in_process")
    def test_in_process_without_a_secret(self):
        messages = [m for m in checks.run_checks() if m.id == "approov_django.E001"]
        self.assertEqual(len(messages), 1)
        self.assertIn("APPROOV_BASE64_SECRET", messages[0].msg)

    @override_settings(APPROOV_BASE64_SECRET="anything")
    def test_a_setting_of_the_other_mode(self):
        self.assertEqual(ids(), ["approov_django.W001"])

    @override_settings(MIDDLEWARE=[])
    def test_middleware_missing(self):
        self.assertEqual(ids(), ["approov_django.E002"])

    @override_settings(MIDDLEWARE=["django.middleware.common.CommonMiddleware",
                                   "approov_django.middleware.ApproovMiddleware"])
    def test_middleware_not_first(self):
        self.assertEqual(ids(), ["approov_django.W002"])

    @override_settings(APPROOV_BINDING_OPTIONAL=True)
    def test_optional_binding_under_views_that_require_it(self):
        self.assertEqual(ids(), ["approov_django.W003"])
