"""Billing jobs: take ids (or nothing), call a service, nothing else. Declared here and written
into django-celery-beat by `manage.py sync_periodic_tasks`."""
from celery import shared_task

from apps.billing import services
from apps.core.periodic import Periodic

PERIODIC_TASKS = [
    # Daily, after midnight in New York (05:15 UTC): unpaid invoices past their due date.
    Periodic(name="billing.mark_overdue", task="billing.mark_overdue", crontab={"minute": "15", "hour": "5"}),
    # Nightly, 02:30 in New York (07:30 UTC): eligibility for tomorrow's visits.
    Periodic(name="billing.eligibility_recheck_tomorrow", task="billing.eligibility_recheck_tomorrow",
             crontab={"minute": "30", "hour": "7"}),
]


@shared_task(name="billing.mark_overdue", time_limit=600, soft_time_limit=540)
def mark_overdue():
    """ISSUED / PARTIALLY_PAID past the due date -> OVERDUE (each re-checked under its lock)."""
    return services.invoices_mark_overdue()


@shared_task(name="billing.eligibility_recheck_tomorrow", time_limit=3600, soft_time_limit=3540)
def eligibility_recheck_tomorrow():
    """A fresh eligibility check of each active coverage of tomorrow's patients (the 24-hour
    cache makes a second run a no-op)."""
    return services.eligibility_recheck_tomorrow()

