"""Writes pyjwt_vectors.json: tokens signed by PyJWT, an implementation
independent of this repository's signer, with the verdict the Go verifier
must reach at the fixed time `now`.

Run with Debian's interpreter, where python3-jwt lives:

    /usr/bin/python3 testdata/gen_pyjwt_vectors.py > testdata/pyjwt_vectors.json

The output is committed; vectors_test.go checks every entry.
"""
import base64
import hashlib
import json

import jwt

SECRET = b"vector secret: 64 bytes, signed by PyJWT, checked by approov.go."
assert len(SECRET) == 64
OTHER = b"another secret of 64 bytes, for signatures that must not verify."
assert len(OTHER) == 64
NOW = 1_900_000_000  # the verifier's clock in vectors_test.go
AUTH = "Bearer vector-user-session"
PAY = base64.b64encode(hashlib.sha256(AUTH.encode()).digest()).decode()


def hs256(claims, key=SECRET, headers=None):
    return jwt.encode(claims, key, algorithm="HS256", headers=headers)


vectors = [
    ("valid", hs256({"exp": NOW + 300, "did": "ExampleApproovTokenDID==", "ip": "1.2.3.4"}), "", "ok"),
    ("valid, fractional exp", hs256({"exp": NOW + 300.891912}), "", "ok"),
    ("valid, kid header", hs256({"exp": NOW + 300}, headers={"kid": "k1"}), "", "ok"),
    ("valid, nbf and iat in the past", hs256({"exp": NOW + 300, "nbf": NOW - 60, "iat": NOW - 60}), "", "ok"),
    ("valid, unicode claim", hs256({"exp": NOW + 300, "did": "caf\u00e9 \U0001F600"}), "", "ok"),
    ("bound, matching header", hs256({"exp": NOW + 300, "pay": PAY}), AUTH, "ok"),
    ("bound, other header", hs256({"exp": NOW + 300, "pay": PAY}), "Bearer someone-else", "binding_mismatch"),
    ("binding required, no pay", hs256({"exp": NOW + 300}), AUTH, "binding_claim_missing"),
    ("expired", hs256({"exp": NOW - 1}), "", "token_expired"),
    ("expired at exactly now", hs256({"exp": NOW}), "", "token_expired"),
    ("not yet valid", hs256({"exp": NOW + 300, "nbf": NOW + 60}), "", "token_not_yet_valid"),
    ("issued in the future", hs256({"exp": NOW + 300, "iat": NOW + 60}), "", "token_not_yet_valid"),
    ("no exp", hs256({"did": "x"}), "", "token_claims_invalid"),
    ("exp as a string", hs256({"exp": str(NOW + 300)}), "", "token_claims_invalid"),
    ("exp empty", hs256({"exp": ""}), "", "token_claims_invalid"),
    ("did not a string", hs256({"exp": NOW + 300, "did": 7}), "", "token_claims_invalid"),
    ("audience not configured", hs256({"exp": NOW + 300, "aud": "api"}), "", "token_claims_invalid"),
    ("other secret", hs256({"exp": NOW + 300}, key=OTHER), "", "token_signature"),
    ("HS512", jwt.encode({"exp": NOW + 300}, SECRET, algorithm="HS512"), "", "token_algorithm"),
    ("alg none", jwt.encode({"exp": NOW + 300}, None, algorithm="none") + "c2ln", "", "token_algorithm"),
]

print(json.dumps([{"name": n, "token": t, "authorization": a, "reason": r} for n, t, a, r in vectors], indent=2, ensure_ascii=False))
