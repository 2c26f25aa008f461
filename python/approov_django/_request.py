"""The request as the server received it: raw target, headers by name.

Django normalises what it hands views (request.method upper-cased, the path
decoded); the checks need what the client and the gateway sent.
"""
import urllib.parse
from typing import Optional


def meta_key(name: str) -> str:
    """The request.META key of header name, as WSGI names it."""
    key = name.upper().replace("-", "_")
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return key
    return "HTTP_" + key


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
        return self.meta.get(meta_key(name))
