from django.urls import path

from approov_django.decorators import approov_exempt, approov_required

from . import views

urlpatterns = [
    path("", views.hello),
    # The token must be bound to the Authorization header.
    path("bound/", approov_required(binding="Authorization")(views.hello)),
    path("whoami", views.whoami),
    # Public: no token needed (the gateway's routes say the same).
    path("public/whoami", approov_exempt(views.whoami)),
    path("public/headers", approov_exempt(views.headers)),
    path("healthz", approov_exempt(views.health)),
    path("upload", views.upload),
    path("stream", views.stream),
]

handler404 = "hello.views.not_found"
