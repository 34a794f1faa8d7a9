from django.core.management.base import BaseCommand

from apps.core.periodic import sync_periodic_tasks


class Command(BaseCommand):
    help = "Write the periodic jobs declared in code into django-celery-beat (idempotent)."

    def handle(self, *args, **options):
        created, updated, disabled = sync_periodic_tasks()
        self.stdout.write(f"periodic tasks: {len(created)} created, {len(updated)} updated, {len(disabled)} disabled")
