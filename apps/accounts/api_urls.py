from django.urls import path

from apps.accounts.api import AppSessionView, SignOutEverywhereView, WhoAmIView

urlpatterns = [
    path("whoami/", WhoAmIView.as_view(), name="api_whoami"),
    path("app/session/", AppSessionView.as_view(), name="api_app_session"),
    path("app/session/sign-out-everywhere/", SignOutEverywhereView.as_view(), name="api_sign_out_everywhere"),
]
