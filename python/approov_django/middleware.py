"""ApproovMiddleware: the check, before anything else in Django runs.

Put it first in MIDDLEWARE. For each request it finds the view the URL
resolves to, takes that view's policy (approov_required, approov_optional,
approov_exempt, or APPROOV_DEFAULT_POLICY), and (again in process_view,
should the view Django resolves after every middleware have another):

- gateway mode: verifies the gateway's signed Approov-Assertion
  (docs/ASSERTION.md) on every request, whatever the policy, so that
  nothing reaches Django without passing the gateway; then, for a view
  that requires a token, refuses the verdict "public" (a route the
  gateway let through without a token) and checks binding. A failure
  verdict, which only a gateway in monitor mode signs, passes: the
  operator chose to monitor;
- in_process mode: verifies the Approov token (and its binding) itself.

request.approov then holds the facts (ApproovFacts). A refusal is 401 with
the body {} (400 for a request whose path Django would read differently),
and a warning on the "approov" logger naming the reason code, never a
token, a key or a header value. Works under WSGI and ASGI: the check does
no I/O, so it runs as is on either.
"""
import logging
import threading
import time
from datetime import datetime, timezone
from typing import Callable, Optional, Tuple

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, JsonResponse
from django.urls import get_resolver

from . import conf
from ._request import MetaHeaders, meta_key, raw_target, routes_on_target
from .assertion import FORWARDED_CLAIMS, AssertionFailure
from .decorators import Policy, policy_of
from .facts import ApproovFacts
from .tokens import FACT_CLAIMS, MAX_DATE, TokenFailure, expiry_seconds

logger = logging.getLogger("approov")


def _escaped(text: str, limit: int) -> str:
    """text cut at limit and escaped as Django's own request log does, so
    that a path with a line break cannot forge a log line."""
    return text[:limit].encode("unicode_escape").decode("ascii")


def _what(request) -> str:
    """Method and path of request, for a log line."""
    return "%s %s" % (_escaped(request.META.get("REQUEST_METHOD", ""), 16), _escaped(request.path, 256))


class LogLimiter:
    """Lets per_second lines through in each second of the clock, and
    counts the rest, so that a flood of bad tokens cannot flood the log
    (the gateway's log_rejections_per_second, per process here). per_second
    0 lets every line through."""

    def __init__(self, per_second: int, clock: Optional[Callable[[], float]] = None):
        self.per_second = per_second
        self.clock = clock
        self._lock = threading.Lock()
        self._second = None
        self._count = 0
        self._dropped = 0

    def allow(self) -> Tuple[bool, int]:
        """Whether a line may be logged now and, when it may, how many
        were left out before it."""
        if self.per_second <= 0:
            return True, 0
        second = int(self.clock() if self.clock is not None else time.time())
        with self._lock:
            if second != self._second:
                self._second, self._count = second, 0
            self._count += 1
            if self._count > self.per_second:
                self._dropped += 1
                return False, 0
            dropped, self._dropped = self._dropped, 0
            return True, dropped

    def warning(self, msg: str, *args, **kwargs) -> None:
        """logger.warning(msg, *args, **kwargs) when allowed, after a line
        counting the lines left out before it."""
        ok, dropped = self.allow()
        if not ok:
            return
        if dropped:
            logger.warning("approov refusals not logged (APPROOV_LOG_REFUSALS_PER_SECOND): %d", dropped,
                           extra={"count": dropped})
        logger.warning(msg, *args, **kwargs)


def _refuse(log: LogLimiter, request, status: int, reason: str, detail: str = ""):
    log.warning("approov refused %s: %s%s", _what(request), reason, " (%s)" % detail if detail else "",
                extra={"reason": reason})
    return JsonResponse({}, status=status)


def _datetime(seconds: float) -> datetime:
    """An aware datetime of a verified exp: Go accepts 253402300799.9999,
    which float() and fromtimestamp() would round into the year 10000."""
    return datetime.fromtimestamp(min(seconds, MAX_DATE), tz=timezone.utc)


class ApproovMiddleware:
    """Checks every request as its view's policy says, and sets
    request.approov. Settings: see approov_django.conf.SETTINGS."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        config, errors, warnings = conf.load(settings)
        if errors:
            raise ImproperlyConfigured("approov_django: " + "; ".join(errors))
        for w in warnings:
            logger.warning("approov_django: %s", w)
        self.config: conf.Config = config
        self.log = LogLimiter(config.log_refusals_per_second)
        self._bindings = {}
        if config.mode == conf.GATEWAY:
            self._assertion_key = meta_key(config.header_prefix + "Assertion")
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self._async:
            return self._acall(request)
        refusal = self.check(request)
        if refusal is not None:
            return refusal
        return self.get_response(request)

    async def _acall(self, request):
        refusal = self.check(request)
        if refusal is not None:
            return refusal
        return await self.get_response(request)

    def policy(self, request) -> Policy:
        """The policy of the view request.path_info resolves to, or the
        default one when none does (a 404 follows, or a fallback such as
        flatpages, which gets the default policy too)."""
        try:
            # The resolver Django's handler will use, found as it finds it.
            match = get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
        except Http404:
            return Policy(self.config.default_policy)
        return policy_of(match.func) or Policy(self.config.default_policy)

    def check(self, request, policy: Optional[Policy] = None) -> Optional[JsonResponse]:
        """Sets request.approov, and returns the refusal, if any, under
        policy, or the policy of the view the path resolves to now."""
        if policy is None:
            policy = self.policy(request)
        request._approov_policy = policy
        if self.config.mode == conf.GATEWAY:
            return self._gateway(request, policy)
        return self._in_process(request, policy)

    def process_view(self, request, view_func, view_args, view_kwargs) -> Optional[JsonResponse]:
        """Checks again when the view Django resolved, after every
        middleware, has another policy than the one __call__ found: a later
        middleware set request.urlconf (per-host URLconfs), or activated the
        language i18n_patterns resolve under. The early check keeps
        refusals cheap; this one makes the view's own policy the one that
        holds."""
        policy = policy_of(view_func) or Policy(self.config.default_policy)
        if getattr(request, "_approov_policy", None) == policy:
            return None
        return self.check(request, policy)

    def _binding_names(self, policy: Policy):
        return self.config.binding_headers if policy.binding is None else policy.binding

    def _gateway(self, request, policy: Policy) -> Optional[JsonResponse]:
        meta = request.META
        if not routes_on_target(request, self.config.script_name):
            return _refuse(self.log, request, 400, "path_ambiguous", "SCRIPT_NAME or PATH_INFO is not the request's path")
        try:
            claims = self.config.assertion.verify(
                meta.get(self._assertion_key),
                # REQUEST_METHOD as sent: request.method is upper-cased.
                meta.get("REQUEST_METHOD", ""),
                meta.get("HTTP_HOST"),
                raw_target(request),
                MetaHeaders(meta),
            )
        except AssertionFailure as failure:
            return _refuse(self.log, request, 401, failure.reason, failure.detail)
        expiry = None
        if "tex" in claims:
            expiry = datetime.fromtimestamp(claims["tex"], tz=timezone.utc)
        forwarded = claims.get("clm", {})
        request.approov = facts = ApproovFacts(
            claims["result"],
            claims.get("did") or None,
            expiry,
            {name: forwarded[name] for name in FORWARDED_CLAIMS if forwarded.get(name)},
            claims.get("bnh", ()),
        )
        if policy.kind != conf.REQUIRED:
            return None
        if facts.result == "public":
            # The gateway's route is public, the view is not: refuse, so
            # that a route missing at the gateway exposes nothing.
            return self._unverified(request, "not_verified", "the gateway's route is public")
        if not facts.verified:
            # A failure reason is a verdict only a gateway in monitor mode
            # signs: its operator chose to let the request through.
            logger.info("approov: %s: the gateway monitors: %s", _what(request), _escaped(facts.result, 64),
                        extra={"reason": facts.result[:64]})
            return None
        missing = [n for n in self._binding_names(policy) if n.lower() not in facts.bound_headers]
        if missing:
            return self._unverified(request, "binding_not_asserted",
                                    "the gateway did not check binding to " + ", ".join(missing))
        return None

    def _unverified(self, request, reason: str, detail: str) -> Optional[JsonResponse]:
        if self.config.monitor:
            self.log.warning("approov monitor: would refuse %s: %s (%s)", _what(request), reason, detail,
                             extra={"reason": reason})
            return None
        return _refuse(self.log, request, 401, reason, detail)

    def _in_process(self, request, policy: Policy) -> Optional[JsonResponse]:
        if policy.kind == conf.EXEMPT:
            request.approov = ApproovFacts("public")
            return None
        names = self._binding_names(policy)
        binding = self._bindings.get(names)
        if binding is None and names:
            binding = self._bindings[names] = self.config.binding(names)
        try:
            claims, bound = self.config.tokens.verify_request(MetaHeaders(request.META), binding)
        except TokenFailure as failure:
            request.approov = ApproovFacts(failure.reason)
            if policy.kind == conf.OPTIONAL:
                logger.debug("approov: %s: %s", _what(request), failure.reason, extra={"reason": failure.reason})
                return None
            return self._unverified(request, failure.reason, failure.detail)
        request.approov = ApproovFacts(
            "ok",
            claims.get("did") or None,
            _datetime(expiry_seconds(claims)),
            {name: claims[name] for name in FACT_CLAIMS if claims.get(name)},
            binding.lower if bound else (),
        )
        return None
