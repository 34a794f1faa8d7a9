"""The clinic's URLs and error handlers, plus views that raise (an API view, a page and a
plain Django view under /api/), for tests/hardening/test_api_errors.py."""
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.urls import handler400, handler403, handler404, handler500, urlpatterns as clinic_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def find_the_patient(name):
    # What real code does by mistake: an error whose message holds patient data.
    raise LookupError(f"no chart for {name} born 1980-04-02")


class Boom(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response(find_the_patient(request.query_params.get("name")))

    def post(self, request):
        return Response(find_the_patient(request.data.get("name")))


def page_boom(request):
    find_the_patient(request.GET.get("name"))


urlpatterns = [
    path("api/v1/test-boom/", Boom.as_view()),
    path("api/v1/test-plain-boom/", page_boom),
    path("test-page-boom/", page_boom),
    *clinic_urlpatterns,
]
