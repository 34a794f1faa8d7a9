"""Consents jobs: take ids (or nothing), call a service, nothing else. Declared here and written
into django-celery-beat by `manage.py sync_periodic_tasks`."""
from celery import shared_task

from apps.consents import services
from apps.core.periodic import Periodic

PERIODIC_TASKS = [
    # Daily, a little after midnight UTC: signed consents past their validity period expire.
    Periodic(name="consents.expire", task="consents.expire", crontab={"minute": "10", "hour": "0"}),
    Periodic(name="consents.remind_unsigned", task="consents.remind_unsigned", every_seconds=3600),
    # The safety net behind render_pdf (queued after each signature): PDFs still missing.
    Periodic(name="consents.render_missing_pdfs", task="consents.render_missing_pdfs", every_seconds=600),
]


@shared_task(name="consents.expire", time_limit=600, soft_time_limit=540)
def expire():
    """SIGNED -> EXPIRED at the end of the validity period (each row re-checked under its lock)."""
    return services.consents_expire()


@shared_task(name="consents.remind_unsigned", time_limit=600, soft_time_limit=540)
def remind_unsigned():
    return services.consents_remind_unsigned()


@shared_task(name="consents.render_pdf", time_limit=120, soft_time_limit=100, acks_late=True)
def render_pdf(consent_id):
    """The signed consent's PDF, once (a second run finds it issued and does nothing)."""
    consent = services.consent_pdf_render(consent_id=consent_id)
    return consent.pdf_sha256 if consent is not None else None


@shared_task(name="consents.render_missing_pdfs", time_limit=600, soft_time_limit=540)
def render_missing_pdfs():
    return services.consents_render_missing_pdfs()
