"""approov_django's token verdicts, for python_token_test.go.

Run with Debian's interpreter (/usr/bin/python3), where python3-jwt and
python3-django live, from the repository root. Reads JSON lines:

    {"token": "<base64 of the token's bytes>", "secret": "<base64>",
     "now": 1900000000.0, "authorization": "<value>" or absent}

and writes one reason code per line ("ok", or the failure's). The token's
bytes are decoded as latin-1, as a WSGI server hands them to Django. With
an authorization, the token must be bound to it (one header,
Authorization), as the Go test's verifier is configured.
"""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from approov_django.tokens import Binding, TokenFailure, TokenVerifier  # noqa: E402

verifiers = {}
binding = Binding(["Authorization"])
out = []
for line in sys.stdin:
    case = json.loads(line)
    key = (case["secret"], case["now"])
    if key not in verifiers:
        verifiers[key] = TokenVerifier([(None, base64.b64decode(case["secret"]))],
                                       clock=lambda now=case["now"]: now)
    verifier = verifiers[key]
    token = base64.b64decode(case["token"]).decode("latin-1")
    try:
        claims = verifier.verify(token)
        if "authorization" in case:
            binding.check(claims, {"Authorization": case["authorization"]})
        out.append("ok")
    except TokenFailure as failure:
        out.append(failure.reason)
    except Exception as e:  # noqa: BLE001 - reported, and fails the Go test
        out.append("exception %s: %s" % (type(e).__name__, e))
sys.stdout.write("\n".join(out) + "\n")
