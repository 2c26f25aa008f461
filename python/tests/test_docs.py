"""The README documents every setting, from the one table in conf."""
import os
import unittest

from approov_django.conf import settings_table

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")


class DocsTests(unittest.TestCase):
    def test_readme_has_the_settings_table(self):
        with open(README, encoding="utf-8") as f:
            self.assertIn(settings_table(), f.read(), "regenerate the README's table from conf.settings_table()")
