"""What the staff consents pages share: the refusal line (message, status and code), the
answer of a refused action (the object's page drawn again with the error, at the refusal's
status), and the filter-form problem line."""
from django.core.paginator import Paginator

from apps.core import pages
from apps.core.exceptions import DomainError, ValidationFailed

T = "consents/staff/"
PAGE_SIZE = 50


def with_status(exc):
    """'The patient has not signed the procedure consent yet. (409 consent_not_signed)'."""
    return f"{exc.message} ({exc.status_code} {exc.code})"


def form_error(form, exc):
    """core.pages.form_error, with the status and code after a non-field refusal."""
    pages.form_error(form, exc if isinstance(exc, ValidationFailed) else DomainError(with_status(exc), code=exc.code))


def on_refusal(request, draw, *, form=None, name=None):
    """From here on, a service's refusal redraws the page (`draw(error=..., bound=..., status=...)`):
    on `form` (registered under `name` among the page's forms) when given, else as the page's
    error line."""

    def answer(exc):
        if form is not None:
            form_error(form, exc)
            return draw(bound={name: form}, status=exc.status_code)
        return draw(error=with_status(exc), status=exc.status_code)

    pages.on_error(request, answer)


def posted(request, form, *, name, draw):
    """Parse a posted action form: None when it is valid (a service's refusal from here on
    redraws the page with it, see on_refusal), else the page drawn again with its errors (400).
    `draw(bound=..., status=..., error=...)` draws the object's page."""
    if not form.is_valid():
        return draw(bound={name: form}, status=400)
    on_refusal(request, draw, form=form, name=name)
    return None


def filter_problem(form):
    """A bound filter form's errors as one line naming each field, or None."""
    if not form.is_bound or form.is_valid():
        return None
    return " ".join(f"{form.fields[name].label if name in form.fields else name}: {' '.join(errors)}"
                    for name, errors in form.errors.items())


def paginate(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return page, list(page.object_list)
