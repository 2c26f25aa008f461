"""Strict decoding shared by the token and assertion verifiers.

PyJWT and Python's json module accept more than the Go library does: other
spellings of the same base64url bytes, duplicate member names (the last
wins), NaN and Infinity, lone surrogates, numbers beyond a double. A token
that two parsers read differently is how an attacker makes one token mean
two things, so both verifiers refuse all of these before PyJWT sees
anything, with the same rules as the Go library (docs/DIFFERENTIAL.md).
"""
import base64
import binascii
import json
import math
import re

MAX_DEPTH = 64
MIN_KEY_SIZE = 32
MIN_DISTINCT_BYTES = 8

SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_STD_KEY = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_URL_KEY = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class JSONObject(dict):
    """A JSON object that remembers whether a member name was repeated.

    Duplicates are recorded rather than refused as they are parsed, because
    the verifiers refuse them only where they are ambiguous (the top level,
    and the assertion's clm), as the Go verifiers do.
    """

    __slots__ = ("duplicated",)


def _object(pairs):
    obj = JSONObject(pairs)
    obj.duplicated = len(obj) != len(pairs)
    return obj


class Number(float):
    """A JSON number with a fraction or an exponent, with its text: dates
    written as plain decimals are read exactly, as Go reads them."""

    __slots__ = ("text",)


def _parse_float(text):
    value = Number(text)
    if math.isinf(value):
        raise ValueError("number beyond the range of a double")
    value.text = text
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


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _may_break_ijson(text: str) -> bool:
    """Whether parsed text needs the walk of _check_strings: only a \\u
    escape of a surrogate can make a lone one (UTF-8 cannot carry one), and
    only more than 64 opening brackets can nest deeper than 64. Both tests
    may say yes needlessly (inside strings), never no wrongly."""
    return bool(_SURROGATE_ESCAPE.search(text)) or text.count("[") + text.count("{") > MAX_DEPTH


def strict_json(data: bytes):
    """data as an I-JSON value, or ValueError: UTF-8 without a byte order
    mark, no NaN or Infinity, numbers within a double, no lone surrogates,
    depth at most 64. Objects come back as JSONObject, which records
    duplicate names; numbers with a fraction or exponent as Number."""
    try:
        text = data.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_object, parse_float=_parse_float,
                           parse_int=_parse_int, parse_constant=_no_constant)
        if _may_break_ijson(text):
            _check_strings(value, 1)
    except RecursionError:
        raise ValueError("nesting too deep") from None
    except UnicodeError:
        raise ValueError("not UTF-8, or a lone surrogate") from None
    return value


def segment(text: str) -> bytes:
    """A canonical unpadded base64url segment, decoded, or ValueError.

    PyJWT accepts other spellings of the same bytes; the Go library does
    not, so that no token has two spellings."""
    if not SEGMENT.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not canonical unpadded base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != text:
        raise ValueError("not canonical unpadded base64url")
    return raw


def wire(text: str) -> bytes:
    """The bytes a WSGI (or Django ASGI) string stands for: servers decode
    request bytes as latin-1."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def decode_key(text: str) -> bytes:
    """A key in base64 or base64url, padded or not, in its canonical
    spelling only, or ValueError."""
    for pattern, altchars in ((_STD_KEY, b"+/"), (_URL_KEY, b"-_")):
        if not pattern.fullmatch(text):
            continue
        bare = text.rstrip("=")
        if len(bare) % 4 == 1 or (bare != text and len(text) % 4 != 0):
            continue
        try:
            raw = base64.b64decode(bare + "=" * (-len(bare) % 4), altchars=altchars, validate=True)
        except binascii.Error:
            continue
        again = base64.b64encode(raw, altchars=altchars).decode("ascii")
        if again == text or again.rstrip("=") == text:
            return raw
    raise ValueError("neither base64 nor base64url")


def check_key(key: bytes) -> None:
    """Raises ValueError unless key is at least 32 bytes with at least 8
    distinct byte values, as the Go library requires of HMAC keys."""
    if len(key) < MIN_KEY_SIZE:
        raise ValueError("key is %d bytes; at least %d are required" % (len(key), MIN_KEY_SIZE))
    if len(set(key)) < MIN_DISTINCT_BYTES:
        raise ValueError("key has only %d distinct byte values; at least %d are required"
                         % (len(set(key)), MIN_DISTINCT_BYTES))
