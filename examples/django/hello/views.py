"""The hello API: the Approov quickstarts' endpoint, and one that uses the
caller's verified identity."""
import hashlib
import os
import time

from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt


def hello(request):
    return JsonResponse({"message": "Hello, World!"})


def whoami(request):
    """Who the gateway (or the in-process middleware) says is calling."""
    facts = request.approov
    return JsonResponse({
        "device_id": facts.device_id,
        "verified": facts.verified,
        "result": facts.result,
        "token_expiry": facts.expiry.isoformat() if facts.expiry else None,
    })


def headers(request):
    """The request headers Django received, by WSGI name: what the tests
    check a front proxy let through."""
    return JsonResponse({k: v for k, v in request.META.items() if k.startswith("HTTP_")})


def health(request):
    return JsonResponse({"status": "ok"})


@csrf_exempt
def upload(request):
    """Hashes a request body of any size, read as it streams in."""
    digest = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: request.read(64 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    return JsonResponse({"bytes": size, "sha256": digest.hexdigest()})


def stream(request):
    """Streams count numbered lines. The first line goes out at once; the
    rest wait for the file named by release to exist (at most 10 seconds),
    so a client can tell a streamed response from a buffered one."""
    count = int(request.GET.get("count", "1000"))
    release = request.GET.get("release")

    def lines():
        yield b"line 000000\n"
        if release:
            deadline = time.monotonic() + 10
            while not os.path.exists(release) and time.monotonic() < deadline:
                time.sleep(0.02)
        for i in range(1, count):
            yield b"line %06d\n" % i

    return StreamingHttpResponse(lines(), content_type="text/plain")


def not_found(request, exception=None):
    return JsonResponse({}, status=404)
