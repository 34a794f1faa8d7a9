"""Rendering MessageTemplates (per event kind and language, Django template syntax).

The text is rendered once, at enqueue time, and stored on the outbox row: what staff see on the
outbox page is exactly what was sent, and editing a template later changes no queued message.
SMS and email never carry PHI beyond the visit time and place: templates get a small, fixed
context (clinic name and phone, the patient's first name, visit time, location, deadline, a
portal link), never diagnoses or visit reasons.
"""
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.template import Context, Engine

from apps.messaging.models import MessageTemplate

DEFAULT_LANGUAGE = "en"
# Only these context keys reach a template; anything else a caller passes is dropped, so a
# caller cannot leak a visit reason into an SMS by accident.
ALLOWED_CONTEXT = {
    "clinic_name", "clinic_phone", "patient_first_name", "visit_time", "location_name",
    "deadline", "link", "portal_url", "provider_name", "offer_count",
}

GENERIC = {
    "subject": "A new message from {{ clinic_name }}",
    "sms_body": "{{ clinic_name }}: you have a new message. Sign in to your patient portal to read it.",
    "email_body": "Hello {{ patient_first_name|default:'there' }},\n\nYou have a new message from "
    "{{ clinic_name }}. Sign in to your patient portal to read it.\n\n{{ clinic_name }} · {{ clinic_phone }}",
}

# A private engine: no autoescaping (plain text), and no loaders, so an admin-edited template
# cannot {% include %} or {% extends %} any file.
_engine = Engine(autoescape=False, loaders=[], libraries={})


@dataclass
class Rendered:
    subject: str
    sms_body: str
    email_body: str
    template_language: str


def templates_for(pairs):
    """{(kind, language): the MessageTemplate render_message uses for it} for many pairs in
    one query: that language's template, else English, else None (generic words)."""
    pairs = {(kind, language or DEFAULT_LANGUAGE) for kind, language in pairs}
    if not pairs:
        return {}
    found = {(t.kind, t.language): t for t in MessageTemplate.objects.filter(
        kind__in={kind for kind, _ in pairs}, language__in={language for _, language in pairs} | {DEFAULT_LANGUAGE})}
    return {(kind, language): found.get((kind, language)) or found.get((kind, DEFAULT_LANGUAGE)) for kind, language in pairs}


@lru_cache(maxsize=512)
def _compile(source):
    """The compiled Template of a source text, kept per process: keyed by the text itself, so
    an edited template is simply a new key (a source that does not compile raises, and is not
    kept)."""
    return _engine.from_string(source)


def _render(source, context):
    try:
        return _compile(source).render(Context(context, autoescape=False)).strip()
    except Exception:
        # A broken admin edit (syntax, a missing include, a bad filter argument) must not stop
        # delivery: fall back to the generic words.
        return None


def build_context(extra=None):
    context = {"clinic_name": settings.CLINIC_NAME, "clinic_phone": settings.CLINIC_PHONE}
    base = settings.MESSAGING_PUBLIC_BASE_URL.rstrip("/")
    context["portal_url"] = f"{base}/portal/" if base else "/portal/"
    for key, value in (extra or {}).items():
        if key in ALLOWED_CONTEXT:
            context[key] = value
    return context


def render_message(*, kind, language=DEFAULT_LANGUAGE, context=None, templates=None):
    """Subject, SMS body and email body for `kind` in `language` (English when that language
    has no template; generic words when the kind has none). `templates`: a dict the caller
    keeps across many calls (a batch of messages; templates_for() fills it for many pairs at
    once), so each (kind, language) is read once."""
    key = (kind, language or DEFAULT_LANGUAGE)
    if templates is None:
        templates = {}
    if key not in templates:
        templates.update(templates_for([key]))
    template = templates[key]
    ctx = build_context(context)
    sources = GENERIC if template is None else {"subject": template.subject, "sms_body": template.sms_body, "email_body": template.email_body}
    out = {}
    for field, source in sources.items():
        text = _render(source, ctx)
        out[field] = text if text is not None else _render(GENERIC[field], ctx)
    return Rendered(
        subject=out["subject"].replace("\n", " ")[:200],
        sms_body=out["sms_body"],
        email_body=out["email_body"],
        template_language=template.language if template else DEFAULT_LANGUAGE,
    )
