"""Per-view policy: approov_required, approov_optional, approov_exempt.

The middleware looks a request's view up itself, before any other
middleware or the view runs, and applies the policy the view was decorated
with, or APPROOV_DEFAULT_POLICY. Decorate view functions (with @ or in
urls.py: the decorator returns a new function, so one view can serve a
public and a protected URL), the result of as_view(), or view classes (the
policy then holds for every as_view()).
"""
import functools
from typing import NamedTuple, Optional, Sequence, Tuple, Union

from asgiref.sync import iscoroutinefunction

from .conf import EXEMPT, OPTIONAL, REQUIRED

ATTRIBUTE = "approov_policy"


class Policy(NamedTuple):
    """What a view requires. binding: None for APPROOV_BINDING_HEADERS,
    () for no binding, or the header names the token must be bound to."""

    kind: str
    binding: Optional[Tuple[str, ...]] = None


def _mark(view, policy: Policy):
    """A class gets the policy as an attribute; a function is wrapped, so
    that the same view can have one policy on one URL and another on the
    next (path("public/x", approov_exempt(views.x)) leaves views.x alone)."""
    if isinstance(view, type):
        setattr(view, ATTRIBUTE, policy)
        return view
    if iscoroutinefunction(view):
        async def wrapped(*args, **kwargs):
            return await view(*args, **kwargs)
    else:
        def wrapped(*args, **kwargs):
            return view(*args, **kwargs)
    functools.wraps(view)(wrapped)
    setattr(wrapped, ATTRIBUTE, policy)
    return wrapped


def approov_required(view=None, *, binding: Union[None, bool, str, Sequence[str]] = None):
    """The view needs a verified Approov token.

    binding: None (the default) binds as APPROOV_BINDING_HEADERS says;
    False needs no binding; a header name or a list of them needs the token
    bound to those headers. Use bare (@approov_required) or with arguments.
    """
    if binding is True:
        raise ValueError("approov_required(binding=True): name the headers, or leave binding out "
                         "to use APPROOV_BINDING_HEADERS")
    if binding is False:
        names: Optional[Tuple[str, ...]] = ()
    elif isinstance(binding, str):
        names = (binding,)
    elif binding is None:
        names = None
    else:
        names = tuple(binding)
        if not names or not all(isinstance(n, str) for n in names):
            raise ValueError("approov_required(binding=...): a header name or a non-empty list of them")
    policy = Policy(REQUIRED, names)
    if view is None:
        return lambda v: _mark(v, policy)
    return _mark(view, policy)


def approov_optional(view):
    """The token is checked and request.approov says what was found, but
    the view runs either way: for views that decide themselves, such as
    DRF views with IsApproovVerified."""
    return _mark(view, Policy(OPTIONAL))


def approov_exempt(view):
    """No token is checked for the view (health checks, web pages). In
    gateway mode the request must still come through the gateway."""
    return _mark(view, Policy(EXEMPT))


def policy_of(func) -> Optional[Policy]:
    """The policy a resolved view function carries, on itself or on its
    view class, or None."""
    policy = getattr(func, ATTRIBUTE, None)
    if policy is None:
        cls = getattr(func, "view_class", None) or getattr(func, "cls", None)
        policy = getattr(cls, ATTRIBUTE, None)
    return policy if isinstance(policy, Policy) else None
