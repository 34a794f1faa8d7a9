from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.scheduling.models import Provider
from apps.scheduling.services import slots_generate


class Command(BaseCommand):
    help = ("Bring visit slots in line with provider availability: create FREE slots, retire FREE slots it no longer "
            "produces (idempotent; never touches held or booked slots).")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help=f"Horizon in days (default {settings.SCHEDULING_HORIZON_DAYS}).")
        parser.add_argument("--provider", action="append", default=None, help="Only this provider id (repeatable).")

    def handle(self, *args, days=None, provider=None, **options):
        if days is not None and not 1 <= days <= 366:
            raise CommandError("--days must be between 1 and 366.")
        providers = None
        if provider:
            providers = list(Provider.objects.filter(pk__in=provider))
            if len(providers) != len(set(provider)):
                raise CommandError("Unknown provider id.")
        result = slots_generate(days=days, providers=providers)
        self.stdout.write(f"Created {result.created} slot(s); retired {result.retired} no longer in availability; "
                          f"blocked {result.blocked} for time off.")
