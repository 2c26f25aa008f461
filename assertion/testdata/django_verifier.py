"""approov_django's assertion verifier, driven by python_test.go.

Run with Debian's interpreter (/usr/bin/python3), where python3-jwt and
python3-django live. Reads one JSON object from stdin:

    {"secret": "<APPROOV_ASSERTION_SECRET>", "audience": "...", "leeway": 5,
     "max_lifetime": 300, "now": <Unix seconds, the clock of both sides>,
     "cases": [{"assertion": "..." or null, "method": "...", "host": "...",
                "target": "...", "headers": {"lower-case name": "value"}}],
     "key_settings": ["<APPROOV_ASSERTION_SECRET>", ...]}

Strings are WSGI strings: the request's bytes decoded as latin-1, repeated
headers joined with commas, as gunicorn hands them to Django. Writes one JSON
object: for each case the reason code ("ok" or the failure's) and, when ok,
the facts; for each key setting the key ids, or the error.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

from django.conf import settings  # noqa: E402

settings.configure()

from approov_django.assertion import (  # noqa: E402
    AssertionFailure, AssertionVerifier, FORWARDED_CLAIMS, key_id, parse_keys)

request = json.load(sys.stdin)
verifier = AssertionVerifier(request["secret"], audience=request["audience"], leeway=request["leeway"],
                             max_lifetime=request["max_lifetime"], clock=lambda: request["now"])
cases = []
for case in request["cases"]:
    try:
        claims = verifier.verify(case["assertion"], case["method"], case["host"], case["target"], case["headers"])
    except AssertionFailure as failure:
        cases.append({"reason": failure.reason, "detail": failure.detail})
        continue
    except Exception as e:  # noqa: BLE001 - reported, and fails the Go test
        cases.append({"reason": "exception " + type(e).__name__ + ": " + str(e)})
        continue
    clm = claims.get("clm", {})
    cases.append({
        "reason": "ok",
        "result": claims["result"],
        "did": claims.get("did", ""),
        "tex": claims.get("tex", 0),
        "clm": {name: clm[name] for name in FORWARDED_CLAIMS if clm.get(name)},
    })

keys = []
for setting in request["key_settings"]:
    try:
        keys.append({"ids": [key_id(k) for k in parse_keys(setting)]})
    except ValueError as e:
        keys.append({"error": str(e)})

json.dump({"cases": cases, "keys": keys}, sys.stdout)
