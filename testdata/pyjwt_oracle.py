"""Differential oracle: PyJWT's verdict on each token read from stdin.

Run by differential_test.go with Debian's interpreter (/usr/bin/python3),
where python3-jwt lives. One token per input line; one verdict per output
line: "ok", or "reject <ExceptionClass>". Any exception counts as a
rejection, including the ones PyJWT does not catch itself (OverflowError on
"exp": 1e400, TypeError on "exp": null), because a Django middleware built on
PyJWT would answer those requests with an error, not let them through.

The secret comes base64-encoded in ORACLE_SECRET; the options mirror the Go
verifier's policy: HS256 only, exp required, no leeway.
"""
import base64
import os
import sys

import jwt

secret = base64.b64decode(os.environ["ORACLE_SECRET"])
out = []
for line in sys.stdin:
    token = line.rstrip("\n")
    try:
        jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp"]})
        out.append("ok")
    except Exception as e:  # noqa: BLE001 - every failure is a rejection
        out.append("reject " + type(e).__name__)
sys.stdout.write("\n".join(out) + "\n")
