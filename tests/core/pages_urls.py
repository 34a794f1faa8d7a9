"""Views for tests/core/test_pages.py: each calls a "service" that refuses, the way real page
views do, with no try/except of its own."""
from django import forms
from django.http import HttpResponse
from django.urls import include, path

from apps.core import pages
from apps.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed


class NameForm(forms.Form):
    name = forms.CharField(max_length=20)


def _service(name):
    if name == "taken":
        raise Conflict("That name was just taken.", code="name_taken")
    if name == "short":
        raise ValidationFailed({"name": ["Too short for the clinic."], "elsewhere": ["Not on this form."]})
    return name


def form_view(request):
    form = NameForm(request.POST)
    if not form.is_valid():
        return HttpResponse("invalid", status=400)
    pages.on_error(request, lambda exc: HttpResponse(
        f"{exc.code}|{form.errors.get('name', [''])[0]}|{'; '.join(form.non_field_errors())}", status=exc.status_code), form=form)
    return HttpResponse(f"saved {_service(form.cleaned_data['name'])}")


def plain_view(request):
    raise Conflict("The visit moved meanwhile.", code="stale_visit")


def missing_view(request):
    pages.on_error(request, lambda exc: HttpResponse("not used", status=500))
    raise NotFound()


def denied_view(request):
    raise PermissionDenied()


urlpatterns = [
    path("form/", form_view),
    path("plain/", plain_view),
    path("missing/", missing_view),
    path("denied/", denied_view),
    path("", include("clinic.urls")),  # the site's own pages, for the templates' links
]
