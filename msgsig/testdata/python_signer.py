"""Signs and verifies RFC 9421 signature bases with Python's cryptography
package, independently of the Go code under test (msgsig/python_test.go).

Reads JSON on stdin:
  {"ec_key": base64 SEC 1 DER P-256 private key,
   "account_key": base64 HMAC key,
   "sign": [{"alg", "base", "body", "digest"}],
   "verify": [{"alg", "base", "signature"}]}
In each base to sign, the text %CONTENT_DIGEST% is replaced by the
Content-Digest field value of "body", computed here: "digest" names the
algorithm and form ("sha-256 bytes", "sha-512 string", or "" for none).
Writes {"signed": [{"signature", "content_digest"}], "verified": [bool]}:
signatures r||s (ECDSA) or the MAC (HMAC), base64.
"""

import base64
import hashlib
import hmac
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils


def content_digest(body: bytes, digest: str) -> str:
    if not digest:
        return ""
    alg, form = digest.split()
    h = hashlib.sha256(body) if alg == "sha-256" else hashlib.sha512(body)
    value = base64.b64encode(h.digest()).decode()
    return f"{alg}=:{value}:" if form == "bytes" else f'{alg}="{value}"'


def sign(key, account_key: bytes, alg: str, base: bytes) -> bytes:
    if alg == "ecdsa-p256-sha256":
        der = key.sign(base, ec.ECDSA(hashes.SHA256()))
        r, s = utils.decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if alg == "hmac-sha256":
        return hmac.new(account_key, base, hashlib.sha256).digest()
    raise ValueError(alg)


def verify(key, account_key: bytes, alg: str, base: bytes, sig: bytes) -> bool:
    if alg == "ecdsa-p256-sha256":
        if len(sig) != 64:
            return False
        der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        try:
            key.public_key().verify(der, base, ec.ECDSA(hashes.SHA256()))
            return True
        except InvalidSignature:
            return False
    if alg == "hmac-sha256":
        return hmac.compare_digest(hmac.new(account_key, base, hashlib.sha256).digest(), sig)
    raise ValueError(alg)


def main() -> None:
    run = json.load(sys.stdin)
    key = serialization.load_der_private_key(base64.b64decode(run["ec_key"]), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SystemExit("the EC key is not a P-256 key")
    account_key = base64.b64decode(run["account_key"])
    signed = []
    for case in run["sign"]:
        digest = content_digest(case["body"].encode(), case["digest"])
        base = case["base"].replace("%CONTENT_DIGEST%", digest).encode("ascii")
        sig = sign(key, account_key, case["alg"], base)
        signed.append({"signature": base64.b64encode(sig).decode(), "content_digest": digest})
    verified = [
        verify(key, account_key, c["alg"], c["base"].encode("ascii"), base64.b64decode(c["signature"]))
        for c in run["verify"]
    ]
    json.dump({"signed": signed, "verified": verified}, sys.stdout)


if __name__ == "__main__":
    main()
