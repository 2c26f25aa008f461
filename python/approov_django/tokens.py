"""Approov tokens verified in process, as strictly as the Go library.

TokenVerifier follows github.com/approov-gateway/approov's Verifier step by
step, with the same reason codes: the structure and header are checked
before the signature, the signature (PyJWT's HMAC-SHA256) before any claim
is read, then the claims' types and times. PyJWT alone accepts tokens the
Go library refuses (docs/DIFFERENTIAL.md); the strict checks here close
that gap, and python_differential_test.go holds the two to the same verdict
and reason code on every token of the Go library's corpus.

Only HS256 is verified here, the Approov default; accounts on RS256 or
ES256 keys run the gateway.
"""
import base64
import binascii
import hashlib
import hmac
import re
import time
from typing import Callable, List, Optional, Sequence, Tuple

from jwt.algorithms import HMACAlgorithm
from jwt.exceptions import InvalidKeyError

from ._strict import JSONObject, Number, check_key, decode_key, segment, strict_json, wire

DEFAULT_TOKEN_HEADER = "Approov-Token"
STATUS_HEADER = "Approov-Status"
DEFAULT_MAX_TOKEN_SIZE = 8 * 1024

# Numeric dates lie in years 1 to 9999, as in Go.
MIN_DATE = -62135596800
MAX_DATE = 253402300799
# The longest signature any key the Go library supports makes (RSA 4096).
_MAX_SIGNATURE = 512

# Claims with a type; the others are not read.
_STRING_CLAIMS = ("did", "ip", "pay", "arc", "ipk", "mskid", "iss", "sub")
_DATE_CLAIMS = ("exp", "nbf", "iat")
# request.approov.claims: the claims beyond did and exp a view may want.
FACT_CLAIMS = ("ip", "arc", "ipk", "mskid", "pay", "iss", "sub")

_STATUS_WORD = re.compile(r"[A-Z0-9_]{1,64}")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
# The spellings of a pay claim: base64 or base64url, padded or not.
_PAY = re.compile(r"[A-Za-z0-9+/]{43}=?|[A-Za-z0-9_-]{43}=?")
# What str.strip() would also remove but Go's strings.TrimSpace, on the
# bytes, does not: only ASCII white space is trimmed.
_SPACE = " \t\n\v\f\r"


class TokenFailure(Exception):
    """A token, or its binding, failed; reason is the Go library's reason
    code (approov.Reason), detail what exactly was wrong.

    Neither contains the token, a key or a header value.
    """

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason + (": " + detail if detail else ""))
        self.reason = reason
        self.detail = detail


def _malformed(detail):
    return TokenFailure("token_malformed", detail)


def parse_secret(text: str) -> bytes:
    """An APPROOV_BASE64_SECRET: base64 or base64url, padded or not, of at
    least 32 bytes with at least 8 distinct byte values. Raises ValueError
    without the value."""
    text = (text or "").strip()
    if not text:
        raise ValueError("secret is empty")
    try:
        key = decode_key(text)
    except (ValueError, binascii.Error):
        raise ValueError("secret is neither base64 nor base64url") from None
    check_key(key)
    try:
        _HMAC.prepare_key(key)
    except InvalidKeyError:
        raise ValueError("PyJWT refuses the secret, as it looks like a PEM or SSH key") from None
    return key


_HMAC = HMACAlgorithm(HMACAlgorithm.SHA256)


def _is_status_word(text: str) -> bool:
    return bool(_STATUS_WORD.fullmatch(text))


def _date(value, name: str) -> float:
    """A NumericDate as Unix seconds, or TokenFailure: a JSON number from
    year 1 to 9999, read as Go reads it."""
    if type(value) is int:
        if MIN_DATE <= value <= MAX_DATE:
            return float(value)
    elif isinstance(value, Number):
        if _PLAIN_DECIMAL.fullmatch(value.text):
            # Go reads digits[.digits] exactly: the whole seconds decide.
            if int(value.text.split(".")[0]) <= MAX_DATE:
                return float(value)
        elif MIN_DATE <= value <= MAX_DATE:
            return float(value)
    raise TokenFailure("token_claims_invalid", name + " claim out of range")


def _json_kind(value) -> str:
    """The JSON type of a parsed value, in the Go library's words."""
    if isinstance(value, bool) or value is None:
        return "literal"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _json_part(data: bytes, part: str) -> JSONObject:
    """data as an I-JSON object without duplicate names, or TokenFailure."""
    try:
        value = strict_json(data)
    except ValueError:
        raise _malformed(part + " is not I-JSON") from None
    if not isinstance(value, dict):
        raise _malformed(part + " is not a JSON object")
    if value.duplicated:
        raise _malformed(part + " has a duplicate member name")
    return value


class Binding:
    """Token binding: the token's pay claim must be base64 SHA-256 of the
    named headers' values, as the Go library's approov.Binding checks.

    One header: its value as received. Several: their values, trimmed,
    concatenated in order. strip_scheme hashes the credential without its
    first word ("Bearer "); optional accepts tokens without pay.

    A WSGI server joins a repeated header with commas, so a bound value with
    a comma is refused as duplicated (binding_header_duplicated): bind
    credentials without commas (Bearer and Basic have none).
    """

    def __init__(self, headers: Sequence[str], strip_scheme: bool = False, optional: bool = False):
        if isinstance(headers, str):
            headers = [headers]
        names: List[str] = []
        for name in headers:
            name = name.strip() if isinstance(name, str) else name
            if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
                raise ValueError("binding header %r is not a valid header name" % (name,))
            if name.lower() in (n.lower() for n in names):
                raise ValueError("binding header %r named twice" % name)
            names.append(name)
        if not names:
            raise ValueError("token binding needs at least one header")
        self.headers = tuple(names)
        self.lower = tuple(n.lower() for n in names)
        self.strip_scheme = bool(strip_scheme)
        self.optional = bool(optional)

    def check(self, claims: dict, headers) -> bool:
        """Raises TokenFailure unless claims' pay binds the headers; returns
        whether a binding was checked (False: optional, and no pay).

        headers maps header names to WSGI strings (anything with .get, such
        as request.headers or MetaHeaders)."""
        if "pay" not in claims:
            if self.optional:
                return False
            raise TokenFailure("binding_claim_missing", "token has no pay claim")
        want = _decode_pay(claims["pay"])
        if want is None:
            raise TokenFailure("binding_mismatch", "pay claim is not a base64 SHA-256 hash")
        digest = hashlib.sha256()
        for name in self.headers:
            digest.update(wire(self._value(headers, name)))
        if not hmac.compare_digest(digest.digest(), want):
            raise TokenFailure("binding_mismatch", "pay claim does not match the bound headers")
        return True

    def _value(self, headers, name: str) -> str:
        value = headers.get(name)
        value = "" if value is None else value
        if "," in value:
            raise TokenFailure("binding_header_duplicated", name)
        if len(self.headers) > 1:
            value = value.strip(_SPACE)
        if self.strip_scheme:
            value = _strip_scheme(value)
        if not value.strip(_SPACE):
            raise TokenFailure("binding_header_missing", name)
        return value


def _strip_scheme(value: str) -> str:
    value = value.lstrip(" \t")
    cut = min((i for i in (value.find(" "), value.find("\t")) if i >= 0), default=-1)
    if cut < 0:
        return value
    return value[cut:].lstrip(" \t")


def _decode_pay(pay: str) -> Optional[bytes]:
    """A pay claim's 32 bytes: base64 or base64url, padded (44 characters)
    or not (43), canonical only."""
    if not _PAY.fullmatch(pay):
        return None
    altchars = b"-_" if ("-" in pay or "_" in pay) else b"+/"
    try:
        raw = base64.b64decode(pay.rstrip("=") + "=", altchars=altchars, validate=True)
    except binascii.Error:
        return None
    again = base64.b64encode(raw, altchars=altchars).decode("ascii")
    if len(raw) != 32 or again.rstrip("=") != pay.rstrip("="):
        return None
    return raw


def payload_hash(value: str) -> str:
    """The pay claim that binds a token to value: standard base64, padded,
    of its SHA-256 (approov.PayloadHash)."""
    return base64.b64encode(hashlib.sha256(wire(value)).digest()).decode("ascii")


class TokenVerifier:
    """Verifies Approov tokens with the Go library's rules.

    keys is a list of (kid or None, secret bytes); a token with a kid is
    checked against the keys with that id, or failing those the keys
    without one; a token without a kid against every key. leeway and
    max_lifetime are seconds (max_lifetime None for no limit); issuer and
    audience, when set, must match, and a token with an aud is refused
    when no audience is set. Build one at start-up; it is safe to share.
    """

    def __init__(self, keys: Sequence[Tuple[Optional[str], bytes]], leeway: float = 0,
                 max_lifetime: Optional[float] = None, issuer: Optional[str] = None,
                 audience: Optional[str] = None, token_header: str = DEFAULT_TOKEN_HEADER,
                 token_prefix: str = "", max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
                 clock: Callable[[], float] = time.time):
        if not keys:
            raise ValueError("no key: set the account's secret")
        self.keys: List[Tuple[Optional[str], bytes]] = []
        for kid, key in keys:
            check_key(key)
            self.keys.append((kid or None, _HMAC.prepare_key(key)))
        self.leeway = float(leeway)
        self.max_lifetime = None if max_lifetime is None else float(max_lifetime)
        self.issuer = issuer or None
        self.audience = audience or None
        if not _HEADER_NAME.fullmatch(token_header or ""):
            raise ValueError("token header %r is not a valid header name" % (token_header,))
        self.token_header = token_header
        self.token_prefix = token_prefix or ""
        self.max_token_size = int(max_token_size)
        self.clock = clock

    def token_from_headers(self, headers) -> str:
        """The token in the request headers (anything with .get by name),
        or TokenFailure: exactly one token header, not empty."""
        token = headers.get(self.token_header)
        if token is None:
            raise self._missing(headers)
        if "," in token:
            # WSGI servers join a repeated header with commas; a JWS has none.
            raise TokenFailure("token_duplicated")
        if len(token) > self.max_token_size:
            raise TokenFailure("token_too_large", "token longer than the configured maximum")
        prefix = self.token_prefix
        if prefix and token[:len(prefix)].lower() == prefix.lower():
            token = token[len(prefix):]
        token = token.strip(_SPACE)
        if not token:
            raise self._missing(headers)
        return token

    @staticmethod
    def _missing(headers) -> TokenFailure:
        status = (headers.get(STATUS_HEADER) or "").split(",")[0].strip(_SPACE)
        if not status:
            return TokenFailure("token_missing")
        if _is_status_word(status):
            return TokenFailure("token_status", STATUS_HEADER + " " + status)
        return TokenFailure("token_status", STATUS_HEADER + " (unrecognised value)")

    def verify_request(self, headers, binding: Optional[Binding] = None) -> Tuple[dict, bool]:
        """The claims of the request's token, its binding checked when
        binding is given, and whether a binding was checked (an optional
        binding checks none without pay); or TokenFailure."""
        claims = self.verify(self.token_from_headers(headers))
        bound = binding.check(claims, headers) if binding is not None else False
        return claims, bound

    def verify(self, token: str) -> dict:
        """The claims of a compact JWS token, or TokenFailure."""
        if not token:
            raise TokenFailure("token_missing", "empty token")
        if len(token) > self.max_token_size:
            raise TokenFailure("token_too_large", "token longer than the configured maximum")
        if "\n" in token or "\r" in token:
            raise _malformed("line break inside the token")
        if "." not in token:
            if _is_status_word(token):
                raise TokenFailure("token_status", "SDK status word in place of a token")
            raise _malformed("not three dot-separated segments")
        parts = token.split(".")
        if len(parts) != 3:
            raise _malformed("not three dot-separated segments")
        head_seg, pay_seg, sig_seg = parts
        if not head_seg or not pay_seg or not sig_seg:
            raise _malformed("empty segment")

        try:
            header = _json_part(segment(head_seg), "header")
        except ValueError:
            raise _malformed("header is not canonical unpadded base64url") from None
        alg, kid = self._header(header)

        if len(sig_seg) * 6 // 8 > _MAX_SIGNATURE:
            raise TokenFailure("token_signature", "signature longer than any key's")
        try:
            signature = segment(sig_seg)
        except ValueError:
            raise _malformed("signature is not canonical unpadded base64url") from None
        # The payload is not decoded yet: its bytes, whatever they are, are
        # signed (a byte no base64url has fails the HMAC, as in Go).
        self._verify_signature(alg, kid, wire(head_seg + "." + pay_seg), signature)

        try:
            payload = segment(pay_seg)
        except ValueError:
            raise _malformed("payload is not canonical unpadded base64url") from None
        claims = _json_part(payload, "claims")
        self._check_claims(claims)
        return claims

    @staticmethod
    def _header(header: dict) -> Tuple[str, Optional[str]]:
        """alg and kid, or TokenFailure; the first fault in member order
        decides, as in Go."""
        for name, value in header.items():
            if name == "alg" and type(value) is not str:
                raise _malformed("alg header is not a string")
            if name == "kid" and type(value) is not str:
                raise _malformed("kid header is not a string")
            if name == "crit":
                raise TokenFailure("token_algorithm", "crit header: no extensions are supported")
            if name == "b64" and value is not True:
                raise TokenFailure("token_algorithm", "b64 header other than true: unencoded payloads are not supported")
        if "alg" not in header:
            raise TokenFailure("token_algorithm", "no alg header")
        return header["alg"], header.get("kid")

    def _verify_signature(self, alg: str, kid: Optional[str], signing_input: bytes, signature: bytes) -> None:
        if alg != "HS256":
            raise TokenFailure("token_algorithm", "alg is not one the configured keys verify")
        if kid is None:
            candidates = [key for _, key in self.keys]
        else:
            candidates = [key for key_kid, key in self.keys if key_kid == kid]
            if not candidates:
                candidates = [key for key_kid, key in self.keys if key_kid is None]
                if not candidates:
                    raise TokenFailure("token_unknown_key", "kid matches no configured key for this alg")
        for key in candidates:
            if _HMAC.verify(signing_input, key, signature):
                return
        raise TokenFailure("token_signature", "no configured key verifies the signature")

    def _check_claims(self, claims: dict) -> None:
        for name, value in claims.items():
            if name in _DATE_CLAIMS and _json_kind(value) != "number":
                raise TokenFailure("token_claims_invalid", name + " claim is not a number")
            if name in _STRING_CLAIMS and type(value) is not str:
                raise TokenFailure("token_claims_invalid", name + " claim is not a string")
        if "exp" not in claims:
            raise TokenFailure("token_claims_invalid", "exp claim missing")
        exp = _date(claims["exp"], "exp")
        nbf = _date(claims["nbf"], "nbf") if "nbf" in claims else None
        iat = _date(claims["iat"], "iat") if "iat" in claims else None
        audience = _audience(claims)

        now = self.clock()
        if not now < exp + self.leeway:
            raise TokenFailure("token_expired", "expired %.3fs ago" % (now - exp))
        if self.max_lifetime is not None and self.max_lifetime > 0 and exp > now + self.leeway + self.max_lifetime:
            raise TokenFailure("token_lifetime", "exp is further ahead than the configured maximum lifetime")
        if nbf is not None and now + self.leeway < nbf:
            raise TokenFailure("token_not_yet_valid", "nbf is %.3fs ahead" % (nbf - now))
        if iat is not None and now + self.leeway < iat:
            raise TokenFailure("token_not_yet_valid", "iat is %.3fs ahead" % (iat - now))
        if self.issuer is not None:
            if "iss" not in claims:
                raise TokenFailure("token_claims_invalid", "iss claim missing")
            if claims["iss"] != self.issuer:
                raise TokenFailure("token_claims_invalid", "iss claim is not the configured issuer")
        if self.audience is None:
            if audience:
                raise TokenFailure("token_claims_invalid", "aud claim present but no audience is configured")
        elif self.audience not in audience:
            raise TokenFailure("token_claims_invalid", "aud claim does not include the configured audience")


def _audience(claims: dict) -> List[str]:
    """aud as a list: a string (empty: none) or an array of strings."""
    if "aud" not in claims:
        return []
    aud = claims["aud"]
    if type(aud) is str:
        return [aud] if aud else []
    if isinstance(aud, list) and all(type(a) is str for a in aud):
        return list(aud)
    raise TokenFailure("token_claims_invalid", "aud claim is not a string or an array of strings")


def expiry_seconds(claims: dict) -> float:
    """The verified token's exp as Unix seconds."""
    return _date(claims["exp"], "exp")

