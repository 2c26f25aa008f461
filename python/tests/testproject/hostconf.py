"""A per-host URLconf, as django-hosts and django-tenants set one: after
ApproovMiddleware, so that the view Django runs is not the one the path
resolves to when that middleware's __call__ looks."""
from django.utils.deprecation import MiddlewareMixin


class HostURLConf(MiddlewareMixin):
    def process_request(self, request):
        if request.get_host().startswith("api."):
            request.urlconf = "testproject.urls_api"
