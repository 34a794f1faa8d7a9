"""The one page-error path: a domain error raised while a page handles a request becomes a form
error or a message on the page, with the error's status code. Views contain no
`except DomainError`.

A view says, before it calls a service, how it answers a refusal:

    form = TriageForm(request.POST, visit_request=vr)
    if not form.is_valid():
        return _render(request, vr, form, status=400)
    pages.on_error(request, lambda exc: _render(request, vr, form, status=exc.status_code), form=form)
    services.visit_request_triage(...)   # raises InvalidTransition: the form shows it, 409

With `form`, field errors (ValidationFailed) land on their fields and any other refusal on
the form as a non-field error; the callable then draws the page again. Without on_error, a
refusal answers with the clinic's problem page (core/problem.html) at its status code.
NotFound always answers the 404 page and PermissionDenied the 403 page, whatever the view said.
DomainErrorMiddleware does the catching; the API has its own handler (apps/core/api/errors.py)
with the same codes, so neither pages nor the API hold a second copy of the mapping."""
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from apps.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.core.validation import text_problem

_ATTRIBUTE = "_clinic_domain_error_handler"


def form_error(form, exc):
    """Put a service's refusal on a form: field errors on their fields (fields the form does not
    have go to the top), anything else as a non-field error."""
    if isinstance(exc, ValidationFailed):
        for name, messages in exc.extra.get("fields", {}).items():
            for message in messages:
                form.add_error(name if name in form.fields else None, message)
        return
    form.add_error(None, exc.message)


def on_error(request, answer, *, form=None):
    """From here on in this request, a DomainError other than NotFound / PermissionDenied is
    answered by `answer(exc)` (a response), after being put on `form` when one is given.
    Call again to change the answer for a later step."""
    setattr(request, _ATTRIBUTE, (answer, form))


def problem(request, exc, *, title=None, back_url=None, back_label=None, status=None, template="core/problem.html",
            extra=None):
    """A refusal as a page of its own: its message, its code and a way back."""
    context = {
        "title": title or "This could not be done",
        "message": exc.message,
        "code": exc.code,
        "back_url": back_url,
        "back_label": back_label or "Back",
        **(extra or {}),
    }
    return render(request, template, context, status=status or exc.status_code)


def answer(request, exc):
    """The response for a domain error raised by a page view."""
    if isinstance(exc, NotFound):
        return render(request, "404.html", status=404)
    if isinstance(exc, PermissionDenied):
        return render(request, "403.html", status=403)
    handler = getattr(request, _ATTRIBUTE, None)
    if handler is not None:
        respond, form = handler
        if form is not None:
            form_error(form, exc)
        return respond(exc)
    return problem(request, exc)


class DomainErrorMiddleware:
    """Turns a DomainError that escapes a page view into its page (see the module docstring).
    Sits after the authentication and message middleware so the answer can use both."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            return answer(request, exception)
        return None


MAX_NEXT = 500


def safe_next(request, default="", *, target=None):
    """Where a page may send the user back to: `target`, or the request's `next` (POST, then
    GET), when it is a URL of this site only (a path, or this host; https when the request is);
    anything else (another host, a scheme such as javascript:, NUL, over MAX_NEXT characters)
    gives `default`, never followed. Every "return to" redirect uses it."""
    if target is None:
        target = request.POST.get("next") or request.GET.get("next") or ""
    if not target or len(target) > MAX_NEXT or text_problem(target):
        return default
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return default
    return target
