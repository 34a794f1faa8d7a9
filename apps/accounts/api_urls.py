from django.urls import path

from apps.accounts.api import WhoAmIView

urlpatterns = [
    path("whoami/", WhoAmIView.as_view(), name="api_whoami"),
]
