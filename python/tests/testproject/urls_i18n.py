"""Language-prefixed URLs: they resolve under the language LocaleMiddleware
activates, after ApproovMiddleware."""
from django.conf.urls.i18n import i18n_patterns
from django.urls import path

from approov_django.decorators import approov_required

from . import views

urlpatterns = i18n_patterns(path("transfer/", approov_required(binding="Authorization")(views.default)))
