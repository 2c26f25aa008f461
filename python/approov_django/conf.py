"""The package's settings: one table that reads, checks and documents them.

Every setting is read from django.conf.settings once, when the middleware
is built. load() reports every problem at once, one line each, naming the
setting and never its value; the middleware refuses to start on any of
them (ImproperlyConfigured), and `manage.py check` shows the same lines.
"""
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from .assertion import DEFAULT_AUDIENCE, AssertionVerifier
from .tokens import DEFAULT_MAX_TOKEN_SIZE, DEFAULT_TOKEN_HEADER, Binding, TokenVerifier, parse_secret

GATEWAY = "gateway"
IN_PROCESS = "in_process"
MODES = (GATEWAY, IN_PROCESS)

REQUIRED = "required"
OPTIONAL = "optional"
EXEMPT = "exempt"
POLICIES = (REQUIRED, OPTIONAL, EXEMPT)


class Setting(NamedTuple):
    """One setting: its name, default, the mode it applies to (None for
    both) and what it means, for the README's table."""

    name: str
    default: Any
    mode: Optional[str]
    help: str


SETTINGS: Tuple[Setting, ...] = (
    Setting("APPROOV_MODE", GATEWAY, None,
            '"gateway": Django sits behind approov-gateway and checks its signed assertion; '
            '"in_process": Django checks Approov tokens itself. Never inferred.'),
    Setting("APPROOV_DEFAULT_POLICY", REQUIRED, None,
            'What a view without a decorator requires: "required" (a verified token), "optional" '
            '(checked, never refused) or "exempt" (not checked). URLs no view matches get it too.'),
    Setting("APPROOV_MONITOR", False, None,
            "Log what would be refused for the token's sake, and let it through (request.approov "
            "says why it failed). Never lets an invalid assertion through."),
    Setting("APPROOV_BINDING_HEADERS", (), None,
            "Headers tokens must be bound to (pay claim), e.g. [\"Authorization\"]; a list or a "
            "comma-separated string. In gateway mode, the assertion must say the gateway checked them."),
    Setting("APPROOV_ASSERTION_SECRET", None, GATEWAY,
            "The gateway's assertion_secret: comma-separated base64 keys, any of which verifies. Required."),
    Setting("APPROOV_ASSERTION_AUDIENCE", DEFAULT_AUDIENCE, GATEWAY, "The gateway's assertion_audience."),
    Setting("APPROOV_ASSERTION_LEEWAY", 5, GATEWAY, "Clock skew allowed on assertions, seconds."),
    Setting("APPROOV_ASSERTION_MAX_LIFETIME", 300, GATEWAY, "Longest exp - iat accepted, seconds."),
    Setting("APPROOV_FORWARD_HEADER_PREFIX", "Approov-", GATEWAY, "The gateway's forward_header_prefix."),
    Setting("APPROOV_SCRIPT_NAME", "", GATEWAY,
            "The prefix Django is mounted under (gunicorn's SCRIPT_NAME), if any; any other is refused (400)."),
    Setting("APPROOV_BASE64_SECRET", None, IN_PROCESS,
            "The account's secret (approov secret -get base64): base64 or base64url, at least 32 bytes."),
    Setting("APPROOV_KEY_ID", None, IN_PROCESS, "The kid of APPROOV_BASE64_SECRET, if tokens carry one."),
    Setting("APPROOV_KEYS", {}, IN_PROCESS,
            "More secrets, by kid: {\"kid\": \"base64 secret\"}, for accounts that rotate keys."),
    Setting("APPROOV_LEEWAY", 0, IN_PROCESS, "Clock skew allowed on exp, nbf and iat, seconds."),
    Setting("APPROOV_MAX_TOKEN_LIFETIME", None, IN_PROCESS,
            "Refuse tokens whose exp is further ahead than this many seconds (None: no limit)."),
    Setting("APPROOV_ISSUER", None, IN_PROCESS, "The iss tokens must carry, if set."),
    Setting("APPROOV_AUDIENCE", None, IN_PROCESS,
            "The aud tokens must include, if set; unset, tokens with an aud are refused."),
    Setting("APPROOV_TOKEN_HEADER", DEFAULT_TOKEN_HEADER, IN_PROCESS, "The header the app sends its token in."),
    Setting("APPROOV_TOKEN_PREFIX", "", IN_PROCESS, 'A prefix before the token to remove, e.g. "Bearer ".'),
    Setting("APPROOV_MAX_TOKEN_SIZE", DEFAULT_MAX_TOKEN_SIZE, IN_PROCESS, "Longest token read, bytes."),
    Setting("APPROOV_LOG_REFUSALS_PER_SECOND", 100, None,
            "Most refusal warnings each process logs per second; the rest are counted in one line. "
            "0 logs every one."),
    Setting("APPROOV_TOKEN_BINDING_HEADER", None, None,
            "The one binding header, as the vendor's quickstarts name it: the same as "
            "APPROOV_BINDING_HEADERS = [it]; set one or the other."),
    Setting("APPROOV_BINDING_STRIP_SCHEME", False, None,
            'Bind the credential without its scheme ("Bearer "), for apps that bind only the credential.'),
    Setting("APPROOV_BINDING_OPTIONAL", False, None,
            "Accept tokens without a pay claim (the Approov failover system's), checking binding when present."),
)

_DEFAULTS = {s.name: s.default for s in SETTINGS}


class Config(NamedTuple):
    """The checked settings, and what they build."""

    mode: str
    default_policy: str
    monitor: bool
    binding_headers: Tuple[str, ...]
    strip_scheme: bool
    binding_optional: bool
    script_name: str
    header_prefix: str
    assertion: Optional[AssertionVerifier]
    tokens: Optional[TokenVerifier]
    log_refusals_per_second: int = 100

    def binding(self, headers: Sequence[str]) -> Optional[Binding]:
        """The Binding to headers with the configured options, or None."""
        if not headers:
            return None
        return Binding(headers, strip_scheme=self.strip_scheme, optional=self.binding_optional)


def _boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off", ""):
        return False
    raise ValueError("not true or false")


def _count(value) -> int:
    if isinstance(value, bool):
        raise ValueError("not a whole number")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ValueError("not a whole number") from None
    if not isinstance(value, int) or value < 0:
        raise ValueError("not a whole number from 0")
    return value


def _seconds(value, minimum: float = 0) -> float:
    if isinstance(value, bool):
        raise ValueError("not a number of seconds")
    if hasattr(value, "total_seconds"):
        value = value.total_seconds()
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError("not a number of seconds") from None
    if not isinstance(value, (int, float)) or value != value or value < minimum or value == float("inf"):
        raise ValueError("not a number of seconds from %g" % minimum)
    return float(value)


def _header_list(value) -> Tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v for v in (p.strip() for p in value.split(",")) if v]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError("not a list of header names")
    return tuple(value)


def _choice(choices: Sequence[str]) -> Callable[[Any], str]:
    def parse(value) -> str:
        if value not in choices:
            raise ValueError("not one of " + ", ".join('"%s"' % c for c in choices))
        return value
    return parse


def _text(value) -> str:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


def _optional_text(value) -> Optional[str]:
    if value is None or value == "":
        return None
    return _text(value)


def load(settings) -> Tuple[Optional[Config], List[str], List[str]]:
    """The configuration from settings, with every problem (errors) and
    every setting that has no effect (warnings), one line each."""
    errors: List[str] = []
    warnings: List[str] = []

    def get(name: str, parse: Callable[[Any], Any]):
        value = getattr(settings, name, _DEFAULTS[name])
        try:
            return parse(value)
        except ValueError as e:
            errors.append("%s: %s" % (name, e))
            return parse(_DEFAULTS[name]) if _DEFAULTS[name] is not None else None

    mode = get("APPROOV_MODE", _choice(MODES))
    default_policy = get("APPROOV_DEFAULT_POLICY", _choice(POLICIES))
    monitor = get("APPROOV_MONITOR", _boolean)
    log_refusals = get("APPROOV_LOG_REFUSALS_PER_SECOND", _count)
    strip_scheme = get("APPROOV_BINDING_STRIP_SCHEME", _boolean)
    binding_optional = get("APPROOV_BINDING_OPTIONAL", _boolean)
    headers = get("APPROOV_BINDING_HEADERS", _header_list)
    vendor = get("APPROOV_TOKEN_BINDING_HEADER", _optional_text)
    if vendor and headers:
        errors.append("APPROOV_TOKEN_BINDING_HEADER and APPROOV_BINDING_HEADERS are both set: set one")
    elif vendor:
        headers = (vendor,)
    if headers:
        try:
            Binding(headers)
        except ValueError as e:
            errors.append("APPROOV_BINDING_HEADERS: %s" % e)
            headers = ()

    for s in SETTINGS:
        if s.mode is not None and mode is not None and s.mode != mode and getattr(settings, s.name, None) not in (
                None, "", s.default):
            warnings.append("%s has no effect in %s mode" % (s.name, mode))

    assertion = tokens = None
    script_name = prefix = ""
    if mode == GATEWAY:
        script_name = get("APPROOV_SCRIPT_NAME", _text)
        prefix = get("APPROOV_FORWARD_HEADER_PREFIX", _text)
        audience = get("APPROOV_ASSERTION_AUDIENCE", _text)
        leeway = get("APPROOV_ASSERTION_LEEWAY", _seconds)
        lifetime = get("APPROOV_ASSERTION_MAX_LIFETIME", lambda v: _seconds(v, 1))
        secret = get("APPROOV_ASSERTION_SECRET", _optional_text)
        if not secret:
            errors.append("APPROOV_ASSERTION_SECRET: required in gateway mode (the gateway's assertion_secret)")
        elif audience is not None and leeway is not None and lifetime is not None:
            try:
                assertion = AssertionVerifier(secret, audience=audience or DEFAULT_AUDIENCE, leeway=leeway,
                                              max_lifetime=lifetime)
            except ValueError as e:
                errors.append("APPROOV_ASSERTION_SECRET: %s" % e)
    elif mode == IN_PROCESS:
        tokens = _token_verifier(get, errors)

    if errors:
        return None, errors, warnings
    return Config(mode, default_policy, monitor, headers, strip_scheme, binding_optional, script_name, prefix,
                  assertion, tokens, log_refusals), errors, warnings


def _token_verifier(get, errors: List[str]) -> Optional[TokenVerifier]:
    keys: List[Tuple[Optional[str], bytes]] = []
    secret = get("APPROOV_BASE64_SECRET", _optional_text)
    kid = get("APPROOV_KEY_ID", _optional_text)
    if secret:
        try:
            keys.append((kid, parse_secret(secret)))
        except ValueError as e:
            errors.append("APPROOV_BASE64_SECRET: %s" % e)
    more: Dict[str, Any] = get("APPROOV_KEYS", lambda v: v if isinstance(v, dict) else _raise("not a dict of kid to secret"))
    for key_kid, value in sorted((more or {}).items()):
        if not isinstance(key_kid, str) or not key_kid:
            errors.append("APPROOV_KEYS: a kid is not a non-empty string")
            continue
        try:
            keys.append((key_kid, parse_secret(value if isinstance(value, str) else "")))
        except ValueError as e:
            errors.append("APPROOV_KEYS[%r]: %s" % (key_kid, e))
    if not secret and not more:
        errors.append("APPROOV_BASE64_SECRET: required in in_process mode (approov secret -get base64)")
    leeway = get("APPROOV_LEEWAY", _seconds)
    lifetime = get("APPROOV_MAX_TOKEN_LIFETIME", lambda v: None if v is None else _seconds(v, 1))
    issuer = get("APPROOV_ISSUER", _optional_text)
    audience = get("APPROOV_AUDIENCE", _optional_text)
    header = get("APPROOV_TOKEN_HEADER", _text)
    prefix = get("APPROOV_TOKEN_PREFIX", _text)
    size = get("APPROOV_MAX_TOKEN_SIZE", _size)
    if errors or not keys:
        return None
    try:
        return TokenVerifier(keys, leeway=leeway, max_lifetime=lifetime, issuer=issuer, audience=audience,
                             token_header=header, token_prefix=prefix, max_token_size=size)
    except ValueError as e:
        errors.append("APPROOV_TOKEN_HEADER: %s" % e)
        return None


def _size(value) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if type(value) is not int or not 1024 <= value <= 1 << 20:
        raise ValueError("not a number of bytes from 1024 to 1048576")
    return value


def _raise(message: str):
    raise ValueError(message)


def settings_table() -> str:
    """The settings as the Markdown table of the README (a test holds the
    README to it)."""
    def default(v):
        if v is None or (isinstance(v, (tuple, dict)) and not v):
            return ""
        if isinstance(v, str):
            return '`"%s"`' % v
        return "`%r`" % (v,)
    rows = ["| setting | default | mode | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        rows.append("| `%s` | %s | %s | %s |" % (s.name, default(s.default), s.mode or "both", s.help.replace("|", "\\|")))
    return "\n".join(rows) + "\n"
