from django.urls import path

from approov_django.decorators import approov_exempt

from . import views

urlpatterns = [
    path("", views.default),
    path("orders/<int:n>", views.default),
    path("healthz", views.health),
    path("optional", views.optional),
    path("bound", views.bound),
    path("unbound", views.unbound),
    path("async", views.async_view),
    path("exempt-class", views.ExemptView.as_view()),
    path("drf", views.drf_view),
    # The same view exempt on one URL; "" keeps the default policy.
    path("public/default", approov_exempt(views.default)),
]
