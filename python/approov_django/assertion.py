"""The Approov-Assertion contract of docs/ASSERTION.md, verified.

approov-gateway signs what it verified about each request into the
Approov-Assertion header; AssertionVerifier checks one such value against
the request Django received. The middleware (gateway mode) calls it; it is
a plain function of the request's parts, so the cross-language tests call
it directly. Constants and checks mirror the Go package
github.com/approov-gateway/approov/assertion; assertion/python_test.go holds
the two to the same verdict and reason code on every case.
"""
import base64
import binascii
import hashlib
import hmac
import re
import time
from typing import Any, Callable, Dict, List, Optional

from jwt.algorithms import HMACAlgorithm
from jwt.exceptions import InvalidKeyError

from ._strict import JSONObject, check_key, decode_key, segment, strict_json, wire

ASSERTION_TYPE = "approov-assertion+jwt"
ASSERTION_ISSUER = "approov-gateway"
DEFAULT_AUDIENCE = "approov-backend"
MAX_SIZE = 16 * 1024
MAX_DATE = 253402300799
# clm members, the token claims the gateway may forward.
FORWARDED_CLAIMS = ("ip", "arc", "ipk", "mskid", "pay", "iss", "sub")

_HMAC = HMACAlgorithm(HMACAlgorithm.SHA256)
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")


class AssertionFailure(Exception):
    """A request's assertion failed; reason is the contract's reason code.

    Neither reason nor detail contains the assertion, a key or a header value.
    """

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason + (": " + detail if detail else ""))
        self.reason = reason
        self.detail = detail


def parse_keys(setting: str) -> List[bytes]:
    """The keys of an assertion_secret setting, in order.

    Raises ValueError naming a key by its position, never by its value.
    """
    if not setting or not setting.strip():
        raise ValueError("no key: the list is empty")
    parts = setting.split(",")
    keys: List[bytes] = []
    for i, part in enumerate(parts):
        where = "key %d of %d: " % (i + 1, len(parts))
        part = part.strip()
        if not part:
            raise ValueError(where + "empty (a stray comma?)")
        try:
            key = decode_key(part)
        except (ValueError, binascii.Error):
            raise ValueError(where + "neither base64 nor base64url") from None
        try:
            check_key(key)
        except ValueError as e:
            raise ValueError(where + str(e)) from None
        if key in keys:
            raise ValueError(where + "repeats key %d" % (keys.index(key) + 1))
        keys.append(key)
    return keys


def key_id(key: bytes) -> str:
    """The kid of a key: base64url of the first 9 bytes of
    SHA-256("approov-assertion-kid:" + key), 12 characters."""
    digest = hashlib.sha256(b"approov-assertion-kid:" + key).digest()
    return base64.urlsafe_b64encode(digest[:9]).decode("ascii")


def _is_date(value) -> bool:
    # bool is a subclass of int in Python, and not a date.
    return type(value) is int and 0 <= value <= MAX_DATE


def binding_hash(headers, names) -> bytes:
    """bnd over what this backend received: base64 of SHA-256 of
    name ":" value "\\n" for each bound name whose header is present."""
    digest = hashlib.sha256()
    for name in names:
        value = headers.get(name)
        if value is not None:
            digest.update(name.encode("ascii") + b":" + wire(value) + b"\n")
    return base64.b64encode(digest.digest())


class AssertionVerifier:
    """Verifies Approov-Assertion values exactly as docs/ASSERTION.md says.

    Build one at start-up; verify() is a plain function of the request's
    parts, so it runs without a Django request (the cross-language test
    calls it directly).
    """

    def __init__(self, secret: str, audience: str = DEFAULT_AUDIENCE, leeway: float = 5,
                 max_lifetime: float = 300, clock: Callable[[], float] = time.time):
        keys = parse_keys(secret)
        for i, key in enumerate(keys):
            try:
                _HMAC.prepare_key(key)
            except InvalidKeyError:
                raise ValueError("key %d of %d: PyJWT refuses it, as it looks like a PEM or SSH key"
                                 % (i + 1, len(keys))) from None
        if not isinstance(audience, str) or not audience:
            raise ValueError("the audience must be a non-empty string")
        if isinstance(leeway, bool) or not isinstance(leeway, (int, float)) or leeway < 0:
            raise ValueError("the leeway must be a number of seconds, at least 0")
        if isinstance(max_lifetime, bool) or not isinstance(max_lifetime, (int, float)) or max_lifetime < 1:
            raise ValueError("the maximum lifetime must be a number of seconds, at least 1")
        self.keys: Dict[str, bytes] = {key_id(k): k for k in keys}
        self.audience = audience
        self.leeway = leeway
        self.max_lifetime = max_lifetime
        self.clock = clock

    def verify(self, value: Optional[str], method: str, host: Optional[str], target: Optional[str],
               headers) -> Dict[str, Any]:
        """The claims of the assertion value, checked against the request.

        value is the assertion header as the server gave it (None when
        absent); method, host and target the request method, Host header and
        raw request-target; headers maps lower-case header names to values
        (anything with .get). Strings are WSGI strings: request bytes decoded
        as latin-1. Raises AssertionFailure.
        """
        if not value:
            raise AssertionFailure("assertion_missing")
        if "," in value:
            # WSGI servers join a repeated header with commas; a JWS has none.
            raise AssertionFailure("assertion_duplicated", "comma in the header value")
        claims = self._verify_token(value)

        if wire(method) != claims["htm"].encode("utf-8"):
            raise AssertionFailure("assertion_request_mismatch", "htm is not the request method")
        if wire(host or "") != claims["hth"].encode("utf-8"):
            raise AssertionFailure("assertion_request_mismatch", "hth is not the Host header")
        if "htu" in claims and (target is None or wire(target) != claims["htu"].encode("utf-8")):
            raise AssertionFailure("assertion_request_mismatch", "htu is not the request-target")
        if "bnd" in claims:
            if not hmac.compare_digest(binding_hash(headers, claims["bnh"]), claims["bnd"].encode("utf-8")):
                raise AssertionFailure("assertion_binding_mismatch", "bound headers do not hash to bnd")
        return claims

    def _verify_token(self, value: str) -> Dict[str, Any]:
        """Steps 2 to 11 of the contract: everything but the request."""
        malformed = "assertion_malformed"
        if len(value) > MAX_SIZE:
            raise AssertionFailure(malformed, "longer than the maximum size")
        segments = value.split(".")
        if len(segments) != 3:
            raise AssertionFailure(malformed, "not three dot-separated segments")
        try:
            header_bytes, payload, signature = (segment(s) for s in segments)
        except ValueError:
            raise AssertionFailure(malformed, "segment is not canonical unpadded base64url") from None

        try:
            header = strict_json(header_bytes)
        except ValueError:
            raise AssertionFailure(malformed, "header is not an I-JSON object") from None
        if not isinstance(header, dict) or header.duplicated:
            raise AssertionFailure(malformed, "header is not an I-JSON object")
        if set(header) != {"alg", "typ", "kid"} or any(type(v) is not str for v in header.values()):
            raise AssertionFailure(malformed, "header is not exactly alg, typ and kid, all strings")
        if header["alg"] != "HS256":
            raise AssertionFailure(malformed, "alg is not HS256")
        if header["typ"] != ASSERTION_TYPE:
            raise AssertionFailure(malformed, "typ is not " + ASSERTION_TYPE)
        key = self.keys.get(header["kid"])
        if key is None:
            raise AssertionFailure("assertion_unknown_key", "kid matches no configured key")

        # The signature, before any claim is read: PyJWT's HMAC-SHA256 over
        # the two segments exactly as sent.
        if not _HMAC.verify((segments[0] + "." + segments[1]).encode("ascii"), key, signature):
            raise AssertionFailure("assertion_signature")

        # PyJWT would take the last of duplicate claims; the contract refuses them.
        try:
            claims = strict_json(payload)
        except ValueError:
            raise AssertionFailure(malformed, "claims are not an I-JSON object") from None
        if not isinstance(claims, dict) or claims.duplicated:
            raise AssertionFailure(malformed, "claims are not an I-JSON object")
        if isinstance(claims.get("clm"), JSONObject) and claims["clm"].duplicated:
            raise AssertionFailure(malformed, "clm has a duplicate member name")
        self._check_types(claims)

        # Steps 8 to 10, as PyJWT's claim checks read them: now in whole
        # seconds, rounded down.
        now = int(self.clock())
        if claims["iat"] > now + self.leeway:
            raise AssertionFailure("assertion_not_yet_valid", "iat is in the future")
        if claims["exp"] <= now - self.leeway:
            raise AssertionFailure("assertion_expired")
        if claims["iss"] != ASSERTION_ISSUER or claims["aud"] != self.audience:
            raise AssertionFailure("assertion_claims_invalid", "iss or aud is not the expected one")
        if claims["exp"] - claims["iat"] > self.max_lifetime:
            raise AssertionFailure("assertion_claims_invalid", "exp - iat exceeds the maximum lifetime")
        return claims

    @staticmethod
    def _check_types(claims):
        """Types exact, as in Go: strings are str, dates int (not bool,
        not float) within years 1970 to 9999."""
        def invalid(detail):
            return AssertionFailure("assertion_claims_invalid", detail)

        for name in ("iss", "aud", "jti", "result", "htm", "hth"):
            if type(claims.get(name)) is not str:
                raise invalid(name + " is missing or not a string")
        for name in ("iat", "exp"):
            if not _is_date(claims.get(name)):
                raise invalid(name + " is missing or not an integer from 0 to 253402300799")
        for name in ("did", "htu", "bnd"):
            if name in claims and type(claims[name]) is not str:
                raise invalid(name + " is not a string")
        if "tex" in claims and not _is_date(claims["tex"]):
            raise invalid("tex is not an integer from 0 to 253402300799")
        if "clm" in claims:
            clm = claims["clm"]
            if not isinstance(clm, dict):
                raise invalid("clm is not an object")
            for name in FORWARDED_CLAIMS:
                if name in clm and type(clm[name]) is not str:
                    raise invalid("clm." + name + " is not a string")
        if "bnh" in claims:
            bnh = claims["bnh"]
            if not isinstance(bnh, list) or not all(
                    type(n) is str and _FIELD_NAME.fullmatch(n) and n != "host" for n in bnh):
                raise invalid("bnh is not an array of lower-case header names other than host")
        if not claims["jti"] or not claims["result"] or not claims["htm"]:
            raise invalid("jti, result or htm is empty")
        if ("bnh" in claims) != ("bnd" in claims):
            raise invalid("bnh and bnd must come together")
