"""TokenVerifier and Binding: each rule of the Go library, one reason code
each. python_differential_test.go holds the two to the same verdicts on
thousands of tokens; these tests name the rules."""
import base64
import hashlib
import hmac
import json
import unittest

from approov_django.tokens import Binding, TokenFailure, TokenVerifier, parse_secret, payload_hash

SECRET = parse_secret("tSg7p2kQ9vXbN4mW1cR8yZ3dF6hJ0aL5eU2iO7sG9qVx4nB1mK8wE3rT6yP0zA5cD2fH7jL9uI4oS1gQ3vN8bw==")
OTHER = hashlib.sha256(b"another account").digest()
NOW = 1_800_000_000.0


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def sign(header, claims, key=SECRET) -> str:
    """A token over header and claims given as JSON text, byte for byte."""
    signing_input = b64(header.encode()) + "." + b64(claims.encode())
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(mac)


def token(claims=None, header='{"alg":"HS256","typ":"JWT"}', key=SECRET) -> str:
    body = {"exp": NOW + 3600, "did": "device-1"} if claims is None else claims
    return sign(header, claims if isinstance(claims, str) else json.dumps(body), key)


def verifier(**options) -> TokenVerifier:
    return TokenVerifier([(None, SECRET)], clock=lambda: NOW, **options)


class Headers(dict):
    """Header name to value, looked up case-insensitively, as MetaHeaders."""

    def get(self, name, default=None):
        for k, v in self.items():
            if k.lower() == name.lower():
                return v
        return default


class TokenTests(unittest.TestCase):
    def reason(self, tok, **options):
        with self.assertRaises(TokenFailure) as cm:
            verifier(**options).verify(tok)
        return cm.exception.reason

    def test_valid(self):
        claims = verifier().verify(token())
        self.assertEqual(claims["did"], "device-1")

    def test_structure(self):
        good = token()
        cases = {
            "": "token_missing",
            "NO_NETWORK": "token_status",
            "no-dots": "token_malformed",
            good + "." + good.split(".")[2]: "token_malformed",
            good.replace(".", "..", 1): "token_malformed",
            good + "\n": "token_malformed",
            good.split(".")[0] + "=." + good.split(".", 1)[1]: "token_malformed",
            "x" * 9000: "token_too_large",
        }
        for tok, want in cases.items():
            with self.subTest(tok=tok[:40]):
                self.assertEqual(self.reason(tok), want)

    def test_non_canonical_base64url(self):
        head, pay, sig = token().split(".")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        # The last character of a 32-byte signature carries 2 unused bits.
        flipped = sig[:-1] + alphabet[alphabet.index(sig[-1]) ^ 1]
        self.assertEqual(self.reason(".".join([head, pay, flipped])), "token_malformed")

    def test_header(self):
        cases = {
            '{"alg":"none"}': "token_algorithm",
            '{"alg":"HS512"}': "token_algorithm",
            '{"typ":"JWT"}': "token_algorithm",
            '{"alg":7}': "token_malformed",
            '{"alg":"HS256","kid":7}': "token_malformed",
            '{"alg":"HS256","crit":["b64"],"b64":true}': "token_algorithm",
            '{"alg":"HS256","b64":false}': "token_algorithm",
            '{"alg":"HS256","alg":"HS256"}': "token_malformed",
            '{"alg":"HS256","x":NaN}': "token_malformed",
            '{"alg":"HS256","x":"\\ud800"}': "token_malformed",
            '{"alg":"HS256","x":1e400}': "token_malformed",
            '["HS256"]': "token_malformed",
            '\ufeff{"alg":"HS256"}': "token_malformed",
        }
        for header, want in cases.items():
            with self.subTest(header=header):
                self.assertEqual(self.reason(token(header=header)), want)
        # An escaped name is the same name.
        verifier().verify(token(header='{"\\u0061lg":"HS\\u0032\\u00356"}'))

    def test_signature(self):
        self.assertEqual(self.reason(token(key=OTHER)), "token_signature")
        head, pay, _ = token().split(".")
        self.assertEqual(self.reason(head + "." + pay + "." + "A" * 700), "token_signature")

    def test_keys_by_kid(self):
        v = TokenVerifier([("k1", SECRET), ("k2", OTHER)], clock=lambda: NOW)
        v.verify(token(header='{"alg":"HS256","kid":"k1"}'))
        v.verify(token(header='{"alg":"HS256","kid":"k2"}', key=OTHER))
        v.verify(token(key=OTHER))  # no kid: every key
        with self.assertRaises(TokenFailure) as cm:
            v.verify(token(header='{"alg":"HS256","kid":"k1"}', key=OTHER))
        self.assertEqual(cm.exception.reason, "token_signature")
        with self.assertRaises(TokenFailure) as cm:
            v.verify(token(header='{"alg":"HS256","kid":"k3"}'))
        self.assertEqual(cm.exception.reason, "token_unknown_key")
        # A kid no key has falls back to the keys without an id.
        TokenVerifier([("k1", OTHER), (None, SECRET)], clock=lambda: NOW).verify(
            token(header='{"alg":"HS256","kid":"k9"}'))

    def test_claims(self):
        cases = {
            '{"did":"d"}': "token_claims_invalid",
            '{"exp":null}': "token_claims_invalid",
            '{"exp":"%d"}' % (NOW + 60): "token_claims_invalid",
            '{"exp":true}': "token_claims_invalid",
            '{"exp":100000000000000000000}': "token_claims_invalid",
            '{"exp":%d,"did":12}' % (NOW + 60): "token_claims_invalid",
            '{"exp":%d,"aud":"api"}' % (NOW + 60): "token_claims_invalid",
            '{"exp":%d,"aud":[1]}' % (NOW + 60): "token_claims_invalid",
            '{"exp":1,"exp":%d}' % (NOW + 60): "token_malformed",
            '{"exp":%d,"\\u0065xp":1}' % (NOW + 60): "token_malformed",
            '{"exp":%d}' % (NOW - 1): "token_expired",
            '{"exp":%d,"nbf":%d}' % (NOW + 60, NOW + 30): "token_not_yet_valid",
            '{"exp":%d,"iat":%d}' % (NOW + 60, NOW + 30): "token_not_yet_valid",
            '{"exp":%d,"x":%s}' % (NOW + 60, "[" * 70 + "]" * 70): "token_malformed",
        }
        for claims, want in cases.items():
            with self.subTest(claims=claims[:60]):
                self.assertEqual(self.reason(token(claims)), want)
        # Fractions, exponents and empty audiences are dates and no audience.
        verifier().verify(token('{"exp":%d.25,"aud":[],"x":[1,{"y":null}]}' % (NOW + 60)))
        verifier().verify(token('{"exp":%de3}' % ((NOW + 3000) // 1000)))

    def test_options(self):
        tok = token('{"exp":%d,"iss":"approov","aud":["api","web"]}' % (NOW + 7200))
        verifier(issuer="approov", audience="web").verify(tok)
        self.assertEqual(self.reason(tok, issuer="other", audience="web"), "token_claims_invalid")
        self.assertEqual(self.reason(tok, audience="admin"), "token_claims_invalid")
        self.assertEqual(self.reason(tok, audience="web", max_lifetime=3600), "token_lifetime")
        expired = token('{"exp":%d}' % (NOW - 3))
        verifier(leeway=5).verify(expired)

    def test_token_from_headers(self):
        v = verifier(token_prefix="Bearer ")
        good = token()
        self.assertEqual(v.token_from_headers(Headers({"Approov-Token": "bearer " + good})), good)
        cases = [
            (Headers(), "token_missing"),
            (Headers({"Approov-Token": "  "}), "token_missing"),
            (Headers({"Approov-Token": "", "Approov-Status": "NO_NETWORK"}), "token_status"),
            (Headers({"Approov-Token": good + "," + good}), "token_duplicated"),
            (Headers({"Approov-Token": "x" * 9000}), "token_too_large"),
        ]
        for headers, want in cases:
            with self.subTest(want=want):
                with self.assertRaises(TokenFailure) as cm:
                    v.token_from_headers(headers)
                self.assertEqual(cm.exception.reason, want)


class BindingTests(unittest.TestCase):
    def check(self, binding, claims, headers):
        try:
            binding.check(claims, Headers(headers))
            return "ok"
        except TokenFailure as failure:
            return failure.reason

    def test_one_header(self):
        b = Binding(["Authorization"])
        pay = payload_hash("Bearer alice")
        self.assertEqual(self.check(b, {"pay": pay}, {"Authorization": "Bearer alice"}), "ok")
        url_spelling = pay.replace("+", "-").replace("/", "_").rstrip("=")
        self.assertEqual(self.check(b, {"pay": url_spelling}, {"Authorization": "Bearer alice"}), "ok")
        self.assertEqual(self.check(b, {"pay": pay}, {"Authorization": "Bearer mallory"}), "binding_mismatch")
        self.assertEqual(self.check(b, {"pay": "not a hash"}, {"Authorization": "Bearer alice"}), "binding_mismatch")
        self.assertEqual(self.check(b, {}, {"Authorization": "Bearer alice"}), "binding_claim_missing")
        self.assertEqual(self.check(b, {"pay": pay}, {}), "binding_header_missing")
        self.assertEqual(self.check(b, {"pay": pay}, {"Authorization": "Bearer alice,Bearer alice"}),
                         "binding_header_duplicated")
        self.assertEqual(self.check(Binding(["Authorization"], optional=True), {}, {}), "ok")

    def test_options(self):
        stripped = Binding(["Authorization"], strip_scheme=True)
        self.assertEqual(self.check(stripped, {"pay": payload_hash("alice")}, {"Authorization": "Bearer  alice"}), "ok")
        both = Binding(["Authorization", "X-Session"])
        pay = payload_hash("Bearer alice" + "s1")
        self.assertEqual(self.check(both, {"pay": pay}, {"Authorization": " Bearer alice ", "X-Session": "s1"}), "ok")
        self.assertEqual(self.check(both, {"pay": pay}, {"Authorization": "Bearer alice"}), "binding_header_missing")
        for bad in ([], ["Bad Header"], ["A", "a"]):
            with self.assertRaises(ValueError):
                Binding(bad)

    def test_secret(self):
        for bad in ("", "not base64!", base64.b64encode(b"short").decode(), base64.b64encode(b"a" * 40).decode()):
            with self.assertRaises(ValueError):
                parse_secret(bad)
        url = base64.urlsafe_b64encode(SECRET).decode().rstrip("=")
        self.assertEqual(parse_secret(url), SECRET)
