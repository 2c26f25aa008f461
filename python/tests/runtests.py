"""Runs approov_django's tests with Django's test runner.

    /usr/bin/python3 python/tests/runtests.py            against ../ (the source)
    VENV/bin/python python/tests/runtests.py --installed  against the installed package

scripts/test runs the second, in a venv the package was pip-installed into,
so that what is tested is what installs.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    args = sys.argv[1:]
    sys.path.insert(0, HERE)
    if "--installed" in args:
        args.remove("--installed")
    else:
        sys.path.insert(0, os.path.dirname(HERE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
    import django
    from django.conf import settings
    from django.test.utils import get_runner

    django.setup()
    import approov_django

    print("approov_django from %s, Django %s" % (os.path.dirname(approov_django.__file__), django.__version__),
          file=sys.stderr)
    runner = get_runner(settings)(verbosity=1, failfast=False)
    failures = runner.run_tests(args or [HERE])
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
