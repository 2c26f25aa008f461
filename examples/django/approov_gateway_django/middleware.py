"""ApproovGatewayMiddleware: the facts approov-gateway verified, as request.approov.

Add it first in MIDDLEWARE:

    MIDDLEWARE = ["approov_gateway_django.middleware.ApproovGatewayMiddleware", ...]

request.approov then has .result, .device_id, .expiry (an aware datetime),
.verified (result == "ok") and .claims (further token claims, a dict).

Signed mode (recommended): set APPROOV_ASSERTION_SECRET to the gateway's
assertion_secret. The middleware then reads the facts only from the signed
Approov-Assertion header, which docs/ASSERTION.md specifies: it checks the
signature, the lifetime and that the assertion was made for this very
request (method, Host, request-target and bound headers), ignores every
unsigned fact header, and answers any failure with 401 {} and a log line
(logger "approov") naming the reason code. It needs PyJWT (Debian's
python3-jwt).

Settings of the signed mode, read once at start-up; a bad key stops Django
from starting (ImproperlyConfigured):

    APPROOV_ASSERTION_SECRET        comma-separated keys, base64 or base64url;
                                    the gateway signs with the first, any
                                    verifies
    APPROOV_ASSERTION_AUDIENCE      the gateway's assertion_audience;
                                    default "approov-backend"
    APPROOV_ASSERTION_LEEWAY        clock skew allowed, seconds; default 5
    APPROOV_ASSERTION_MAX_LIFETIME  longest exp - iat accepted, seconds;
                                    default 300

Unsigned mode (no APPROOV_ASSERTION_SECRET): approov-gateway forwards these
headers (Django sees them in request.META with HTTP_ in front, dashes as
underscores):

    Approov-Result        ok; public on public routes; in monitor mode the
                          reason the token failed (token_expired, ...)
    Approov-Device-Id     the token's did claim
    Approov-Token-Expiry  the token's exp, Unix seconds

Settings of both modes:
    APPROOV_SCRIPT_NAME       the prefix Django is mounted under, if any
                              (gunicorn's SCRIPT_NAME); a request whose
                              SCRIPT_NAME differs, or whose PATH_INFO is
                              not the path it was sent for, is refused with
                              400: gunicorn reads a client's Script_Name
                              header as SCRIPT_NAME and cuts it out of the
                              path Django routes on
    APPROOV_REQUIRE_GATEWAY   unsigned mode: refuse (401 {}) requests without
                              a verdict from the gateway; default False. The
                              signed mode always requires an assertion.
    APPROOV_FORWARD_HEADER_PREFIX
                              the gateway's forward_header_prefix; default
                              "Approov-"

Why unsigned headers can be trusted at all: Django must be reachable only
from the gateway (bind gunicorn to 127.0.0.1 or a private address), and the
gateway removes every client-sent header in its namespace, in any spelling,
before forwarding. As a second line, a fact that arrives twice is refused
with 400: gunicorn joins headers that map to the same WSGI name with a
comma, which is what a forged Approov_Device_Id next to a real
Approov-Device-Id looks like. The signed mode does not depend on either.
"""
import base64
import binascii
import hashlib
import hmac
import json
import logging
import math
import re
import urllib.parse
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse

try:
    import jwt
except ImportError:  # only the signed mode needs PyJWT
    jwt = None

logger = logging.getLogger("approov")


class ApproovFacts:
    """What is known of the caller's Approov token."""

    __slots__ = ("result", "device_id", "expiry", "claims")

    def __init__(self, result=None, device_id=None, expiry=None, claims=None):
        self.result = result
        self.device_id = device_id
        self.expiry = expiry
        self.claims = claims if claims is not None else {}

    @property
    def verified(self):
        """True when the token (and its binding, if required) was valid."""
        return self.result == "ok"

    def __repr__(self):
        return "ApproovFacts(result=%r, device_id=%r, expiry=%r, claims=%r)" % (
            self.result, self.device_id, self.expiry, self.claims)


def _meta_key(prefix, name):
    return "HTTP_" + (prefix + name).upper().replace("-", "_")


# The contract of docs/ASSERTION.md. Constants and checks mirror the Go
# package github.com/approov-gateway/approov/assertion; assertion/python_test.go
# holds the two to the same verdict and reason code on every case.

ASSERTION_TYPE = "approov-assertion+jwt"
ASSERTION_ISSUER = "approov-gateway"
DEFAULT_AUDIENCE = "approov-backend"
MAX_SIZE = 16 * 1024
MIN_KEY_SIZE = 32
MIN_DISTINCT_BYTES = 8
MAX_DATE = 253402300799
MAX_DEPTH = 64
# clm members, the token claims the gateway may forward.
FORWARDED_CLAIMS = ("ip", "arc", "ipk", "mskid", "pay", "iss", "sub")

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")
_STD_KEY = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_URL_KEY = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class AssertionFailure(Exception):
    """A request's assertion failed; reason is the contract's reason code.

    Neither reason nor detail contains the assertion, a key or a header value.
    """

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason + (": " + detail if detail else ""))
        self.reason = reason
        self.detail = detail


def _decode_key(text: str) -> bytes:
    """One key of the list: base64 or base64url, padded or not, canonical."""
    for pattern, altchars in ((_STD_KEY, b"+/"), (_URL_KEY, b"-_")):
        if not pattern.fullmatch(text):
            continue
        bare = text.rstrip("=")
        if len(bare) % 4 == 1 or (bare != text and len(text) % 4 != 0):
            continue
        raw = base64.b64decode(bare + "=" * (-len(bare) % 4), altchars=altchars, validate=True)
        again = base64.b64encode(raw, altchars=altchars).decode("ascii")
        if again == text or again.rstrip("=") == text:
            return raw
    raise ValueError("neither base64 nor base64url")


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
            key = _decode_key(part)
        except (ValueError, binascii.Error):
            raise ValueError(where + "neither base64 nor base64url") from None
        if len(key) < MIN_KEY_SIZE:
            raise ValueError(where + "key is %d bytes; at least %d are required" % (len(key), MIN_KEY_SIZE))
        if len(set(key)) < MIN_DISTINCT_BYTES:
            raise ValueError(where + "key has only %d distinct byte values; at least %d are required"
                             % (len(set(key)), MIN_DISTINCT_BYTES))
        if key in keys:
            raise ValueError(where + "repeats key %d" % (keys.index(key) + 1))
        keys.append(key)
    return keys


def key_id(key: bytes) -> str:
    """The kid of a key: base64url of the first 9 bytes of
    SHA-256("approov-assertion-kid:" + key), 12 characters."""
    digest = hashlib.sha256(b"approov-assertion-kid:" + key).digest()
    return base64.urlsafe_b64encode(digest[:9]).decode("ascii")


class _Object(dict):
    """A JSON object that remembers whether a member name was repeated.

    Duplicates are recorded rather than refused as they are parsed because
    the contract refuses them only where they are ambiguous: at the top level
    and in clm, as the Go verifier does.
    """

    __slots__ = ("duplicated",)


def _object(pairs):
    obj = _Object(pairs)
    obj.duplicated = len(obj) != len(pairs)
    return obj


def _parse_float(text):
    value = float(text)
    if math.isinf(value):
        raise ValueError("number beyond the range of a double")
    return value


def _parse_int(text):
    if math.isinf(float(text)):
        raise ValueError("number beyond the range of a double")
    return int(text)


def _no_constant(text):
    raise ValueError("NaN and Infinity are not JSON")


def _check_strings(value, depth):
    """Refuses what Python's json accepts but I-JSON does not: lone
    surrogates (from \\u escapes) and nesting deeper than 64."""
    if isinstance(value, (dict, list)):
        if depth > MAX_DEPTH:
            raise ValueError("nesting deeper than 64")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for name, item in items:
            if isinstance(name, str):
                name.encode("utf-8")
            _check_strings(item, depth + 1)
    elif isinstance(value, str):
        value.encode("utf-8")


def _strict_json(data: bytes):
    """data as an I-JSON value, or ValueError: UTF-8 only, no NaN or
    Infinity, numbers within a double, no lone surrogates, depth at most 64.
    Objects come back as _Object, which records duplicate names."""
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_object, parse_float=_parse_float,
                           parse_int=_parse_int, parse_constant=_no_constant)
        _check_strings(value, 1)
    except RecursionError:
        raise ValueError("nesting too deep") from None
    return value


def _segment(text: str) -> bytes:
    """A canonical unpadded base64url segment, decoded, or ValueError.

    PyJWT accepts other spellings of the same bytes; the contract does not,
    so that no assertion has two spellings."""
    if not _SEGMENT.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != text:
        raise ValueError
    return raw


def _is_date(value) -> bool:
    # bool is a subclass of int in Python, and not a date.
    return type(value) is int and 0 <= value <= MAX_DATE


def _wire(text: str) -> bytes:
    """The bytes a WSGI (or Django ASGI) string stands for: servers decode
    request bytes as latin-1."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def binding_hash(headers, names) -> bytes:
    """bnd over what this backend received: base64 of SHA-256 of
    name ":" value "\\n" for each bound name whose header is present."""
    digest = hashlib.sha256()
    for name in names:
        value = headers.get(name)
        if value is not None:
            digest.update(name.encode("ascii") + b":" + _wire(value) + b"\n")
    return base64.b64encode(digest.digest())


class AssertionVerifier:
    """Verifies Approov-Assertion values exactly as docs/ASSERTION.md says.

    Build one at start-up; verify() is a plain function of the request's
    parts, so it runs without a Django request (the cross-language test
    calls it directly).
    """

    def __init__(self, secret: str, audience: str = DEFAULT_AUDIENCE, leeway: float = 5,
                 max_lifetime: float = 300):
        if jwt is None:
            raise ValueError("PyJWT is not installed (Debian: python3-jwt)")
        keys = parse_keys(secret)
        for i, key in enumerate(keys):
            try:
                jwt.algorithms.HMACAlgorithm(jwt.algorithms.HMACAlgorithm.SHA256).prepare_key(key)
            except jwt.InvalidKeyError:
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
        self._jws = jwt.PyJWS()

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

        if _wire(method) != claims["htm"].encode("utf-8"):
            raise AssertionFailure("assertion_request_mismatch", "htm is not the request method")
        if _wire(host or "") != claims["hth"].encode("utf-8"):
            raise AssertionFailure("assertion_request_mismatch", "hth is not the Host header")
        if "htu" in claims and (target is None or _wire(target) != claims["htu"].encode("utf-8")):
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
            header_bytes, _, _ = (_segment(s) for s in segments)
        except ValueError:
            raise AssertionFailure(malformed, "segment is not canonical unpadded base64url") from None

        try:
            strict = _strict_json(header_bytes)
        except ValueError:
            raise AssertionFailure(malformed, "header is not an I-JSON object") from None
        if not isinstance(strict, dict) or strict.duplicated:
            raise AssertionFailure(malformed, "header is not an I-JSON object")
        if set(strict) != {"alg", "typ", "kid"} or any(type(v) is not str for v in strict.values()):
            raise AssertionFailure(malformed, "header is not exactly alg, typ and kid, all strings")
        # No duplicates, so PyJWT's reading of the header is the strict one.
        try:
            header = jwt.get_unverified_header(value)
        except jwt.InvalidTokenError:
            raise AssertionFailure(malformed, "PyJWT refused the header") from None
        if header["alg"] != "HS256":
            raise AssertionFailure(malformed, "alg is not HS256")
        if header["typ"] != ASSERTION_TYPE:
            raise AssertionFailure(malformed, "typ is not " + ASSERTION_TYPE)
        key = self.keys.get(header["kid"])
        if key is None:
            raise AssertionFailure("assertion_unknown_key", "kid matches no configured key")

        # The signature, before any claim is read.
        try:
            payload = self._jws.decode(value, key, algorithms=["HS256"])
        except jwt.InvalidSignatureError:
            raise AssertionFailure("assertion_signature") from None
        except jwt.InvalidTokenError:
            raise AssertionFailure(malformed, "PyJWT refused the token") from None

        # PyJWT would take the last of duplicate claims; the contract refuses them.
        try:
            claims = _strict_json(payload)
        except ValueError:
            raise AssertionFailure(malformed, "claims are not an I-JSON object") from None
        if not isinstance(claims, dict) or claims.duplicated:
            raise AssertionFailure(malformed, "claims are not an I-JSON object")
        if isinstance(claims.get("clm"), _Object) and claims["clm"].duplicated:
            raise AssertionFailure(malformed, "clm has a duplicate member name")
        self._check_types(claims)

        try:
            jwt.decode(value, key, algorithms=["HS256"], audience=self.audience, issuer=ASSERTION_ISSUER,
                       leeway=self.leeway, options={"require": ["iss", "aud", "iat", "exp"], "verify_nbf": False})
        except jwt.ImmatureSignatureError:
            raise AssertionFailure("assertion_not_yet_valid", "iat is in the future") from None
        except jwt.ExpiredSignatureError:
            raise AssertionFailure("assertion_expired") from None
        except (jwt.InvalidIssuerError, jwt.InvalidAudienceError, jwt.MissingRequiredClaimError,
                jwt.InvalidIssuedAtError):
            raise AssertionFailure("assertion_claims_invalid", "iss or aud is not the expected one") from None
        except jwt.InvalidTokenError:
            raise AssertionFailure(malformed, "PyJWT refused the claims") from None
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


def raw_target(request) -> str:
    """The request-target exactly as the server received it.

    gunicorn gives RAW_URI, uWSGI and mod_wsgi REQUEST_URI; under ASGI the
    scope's raw_path and query_string. Without any, the target is rebuilt
    from the decoded path as request.get_full_path() does, which is not
    byte-exact (%2F becomes /, for one): assertions on such servers fail
    for targets the decoding changes.
    """
    meta = request.META
    for name in ("RAW_URI", "REQUEST_URI"):
        if meta.get(name):
            return meta[name]
    scope = getattr(request, "scope", None)
    if scope and scope.get("raw_path"):
        target = scope["raw_path"].decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        return target
    return request.get_full_path()


def target_path(target: str) -> Optional[str]:
    """The path of a raw request-target: origin-form up to the query, or
    the path of an absolute-form target; None for any other form."""
    if not target.startswith("/"):
        scheme, sep, rest = target.partition("://")
        if not sep or not scheme or "/" in scheme:
            return None
        cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=-1)
        if cut < 0 or rest[cut] != "/":
            return None
        target = rest[cut:]
    return target.split("?", 1)[0]


def routes_on_target(request, script_name: str) -> bool:
    """Whether Django will route on the path the request-target names.

    gunicorn takes a request header Script_Name (any spelling a proxy lets
    through) as SCRIPT_NAME and cuts it out of PATH_INFO, wherever it
    occurs: /public/upload, which the gateway checked as a public path,
    would run the protected /upload view. So SCRIPT_NAME must be the one
    the deployment mounts Django under (APPROOV_SCRIPT_NAME, default none),
    and SCRIPT_NAME + PATH_INFO the decoded path of the raw target, when the
    server gives the raw target.
    """
    meta = request.META
    if meta.get("SCRIPT_NAME", "") != script_name:
        return False
    raw = meta.get("RAW_URI") or meta.get("REQUEST_URI")
    if not raw:
        return True  # no raw target to hold PATH_INFO to (runserver)
    path = target_path(raw)
    if path is None:
        return False
    decoded = urllib.parse.unquote_to_bytes(path).decode("latin-1")
    return decoded == script_name + meta.get("PATH_INFO", "")


class MetaHeaders:
    """Lower-case header names to request.META values, as WSGI names them."""

    __slots__ = ("meta",)

    def __init__(self, meta):
        self.meta = meta

    def get(self, name: str) -> Optional[str]:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        return self.meta.get(key)


def _setting_number(name, default):
    value = getattr(settings, name, default)
    try:
        return float(value) if isinstance(value, str) else value
    except ValueError:
        raise ImproperlyConfigured("%s: not a number of seconds" % name) from None


class ApproovGatewayMiddleware:
    """Sets request.approov from what approov-gateway forwards: the signed
    assertion when APPROOV_ASSERTION_SECRET is set, the plain headers
    otherwise."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.require = getattr(settings, "APPROOV_REQUIRE_GATEWAY", False)
        prefix = getattr(settings, "APPROOV_FORWARD_HEADER_PREFIX", "Approov-")
        self.keys = {
            "result": _meta_key(prefix, "Result"),
            "device_id": _meta_key(prefix, "Device-Id"),
            "expiry": _meta_key(prefix, "Token-Expiry"),
        }
        self.script_name = getattr(settings, "APPROOV_SCRIPT_NAME", "") or ""
        self.assertion = None
        secret = getattr(settings, "APPROOV_ASSERTION_SECRET", None)
        if secret:
            try:
                self.assertion = AssertionVerifier(
                    secret,
                    audience=getattr(settings, "APPROOV_ASSERTION_AUDIENCE", None) or DEFAULT_AUDIENCE,
                    leeway=_setting_number("APPROOV_ASSERTION_LEEWAY", 5),
                    max_lifetime=_setting_number("APPROOV_ASSERTION_MAX_LIFETIME", 300),
                )
            except ValueError as e:
                raise ImproperlyConfigured("APPROOV_ASSERTION_SECRET: %s" % e) from None
            self.assertion_key = _meta_key(prefix, "Assertion")

    def __call__(self, request):
        if not routes_on_target(request, self.script_name):
            logger.warning("approov request refused: path_ambiguous (SCRIPT_NAME %r) %s",
                           request.META.get("SCRIPT_NAME", "")[:256], request.META.get("REQUEST_METHOD", ""),
                           extra={"reason": "path_ambiguous"})
            return JsonResponse({}, status=400)
        if self.assertion is not None:
            return self._signed(request)
        values = {}
        for field, key in self.keys.items():
            value = request.META.get(key)
            if value is not None and "," in value:
                # The same fact twice: one copy did not come from the gateway.
                return JsonResponse({}, status=400)
            values[field] = value or None
        if self.require and values["result"] is None:
            return JsonResponse({}, status=401)
        expiry = None
        if values["expiry"] is not None:
            try:
                expiry = datetime.fromtimestamp(int(values["expiry"]), tz=timezone.utc)
            except (ValueError, OverflowError, OSError):
                return JsonResponse({}, status=400)
        request.approov = ApproovFacts(values["result"], values["device_id"], expiry)
        return self.get_response(request)

    def _signed(self, request):
        """The signed mode: the facts come from the assertion alone."""
        meta = request.META
        try:
            claims = self.assertion.verify(
                meta.get(self.assertion_key),
                # REQUEST_METHOD as sent: request.method is upper-cased.
                meta.get("REQUEST_METHOD", ""),
                meta.get("HTTP_HOST"),
                raw_target(request),
                MetaHeaders(meta),
            )
        except AssertionFailure as failure:
            logger.warning("approov assertion rejected: %s (%s) %s %s", failure.reason,
                           failure.detail or "-", meta.get("REQUEST_METHOD", ""), request.path,
                           extra={"reason": failure.reason})
            return JsonResponse({}, status=401)
        expiry = None
        if "tex" in claims:
            expiry = datetime.fromtimestamp(claims["tex"], tz=timezone.utc)
        forwarded = claims.get("clm", {})
        request.approov = ApproovFacts(
            claims["result"],
            claims.get("did") or None,
            expiry,
            {name: forwarded[name] for name in FORWARDED_CLAIMS if forwarded.get(name)},
        )
        return self.get_response(request)
