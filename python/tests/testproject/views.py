"""Views of the test project: each shows what request.approov holds."""
from django.http import JsonResponse
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

from approov_django.decorators import approov_exempt, approov_optional, approov_required
from approov_django.drf import ApproovAuthentication, IsApproovVerified


def facts(request):
    f = request.approov
    return JsonResponse({"result": f.result, "device_id": f.device_id, "verified": f.verified,
                         "expiry": f.expiry.isoformat() if f.expiry else None, "claims": f.claims,
                         "bound": list(f.bound_headers)})


@csrf_exempt
def default(request, **kwargs):
    return facts(request)


@approov_exempt
def health(request):
    return facts(request)


@approov_optional
def optional(request):
    return facts(request)


@approov_required(binding="Authorization")
def bound(request):
    return facts(request)


@approov_required(binding=False)
def unbound(request):
    return facts(request)


async def async_view(request):
    return facts(request)


@approov_exempt
class ExemptView(View):
    def get(self, request):
        return facts(request)


@api_view(["GET"])
@authentication_classes([ApproovAuthentication])
@permission_classes([IsApproovVerified])
def drf_view(request):
    return Response({"device_id": request.auth.device_id, "user_anonymous": request.user.is_anonymous})


drf_view = approov_optional(drf_view)
