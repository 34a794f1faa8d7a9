from django.core.management.base import BaseCommand

from apps.core.demo import DEMO_PASSWORD, DEMO_TOTP_BASE32, seed_demo, summaries


class Command(BaseCommand):
    help = "Load demo data (idempotent): what each app contributes (apps/<app>/demo.py)."

    def handle(self, *args, **options):
        for line in seed_demo():
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Password for every demo login: {DEMO_PASSWORD}")
        for line in summaries():
            self.stdout.write(f"  {line}")
        self.stdout.write(
            f"  Staff second factor: add key {DEMO_TOTP_BASE32} to an authenticator app, "
            "or run `python manage.py demo_totp` for the current code."
        )
