from django.urls import path

from . import views

urlpatterns = [
    path("", views.hello),
    path("bound/", views.hello),
    path("whoami", views.whoami),
    path("public/whoami", views.whoami),
    path("public/headers", views.headers),
    path("healthz", views.health),
    path("upload", views.upload),
    path("stream", views.stream),
]

handler404 = "hello.views.not_found"
