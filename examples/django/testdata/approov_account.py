"""An Approov account with a key set, played by PyJWT and cryptography.

Writes the set's public keys as a JWK set to DIR/jwks.json, encoded by
PyJWT's own to_jwk, and prints one token per line: signed with the ES256
key (kid es-1), with the RS256 key (kid rs-1), and with a P-256 key that is
not in the set but claims kid es-1. The set also holds an RSA key without
alg, which a verifier cannot pin to one algorithm.

Usage: approov_account.py DIR
"""

import json
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


def public_jwk(algorithm, private_key, **members):
    jwk = json.loads(algorithm.to_jwk(private_key.public_key()))
    jwk.update(members)
    return jwk


def main(out):
    es = ec.generate_private_key(ec.SECP256R1())
    rs = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    unpinned = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stranger = ec.generate_private_key(ec.SECP256R1())
    keys = [
        public_jwk(ECAlgorithm, es, kid="es-1", alg="ES256", use="sig"),
        public_jwk(RSAAlgorithm, rs, kid="rs-1", alg="RS256", use="sig"),
        public_jwk(RSAAlgorithm, unpinned, kid="rs-no-alg"),
    ]
    with open(out + "/jwks.json", "w") as f:
        json.dump({"keys": keys}, f)
    exp = int(time.time()) + 3600
    for kid, alg, key in [("es-1", "ES256", es), ("rs-1", "RS256", rs), ("es-1", "ES256", stranger)]:
        print(jwt.encode({"exp": exp, "did": "device-" + kid}, key, algorithm=alg, headers={"kid": kid}))


if __name__ == "__main__":
    main(sys.argv[1])
