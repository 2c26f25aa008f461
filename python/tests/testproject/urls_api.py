"""The api. host's URLconf: /healthz here is a protected view."""
from django.urls import path

from . import views

urlpatterns = [path("healthz", views.default)]
