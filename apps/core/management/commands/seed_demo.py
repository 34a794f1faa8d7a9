from django.core.management.base import BaseCommand

from apps.core.demo import DEMO_PASSWORD, DEMO_PROVIDERS, DEMO_TOTP_BASE32, STAFF, seed_demo


class Command(BaseCommand):
    help = "Load demo data (idempotent): a location, one user per staff role, patients with logins."

    def handle(self, *args, **options):
        for line in seed_demo():
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Password for every demo login: {DEMO_PASSWORD}")
        self.stdout.write(f"  Patients: patient@clinic.test, patient2@clinic.test, patient3@clinic.test")
        self.stdout.write(f"  Staff: {', '.join(e for e, _, _ in STAFF)}")
        self.stdout.write(f"  Providers: {', '.join(p[0] for p in DEMO_PROVIDERS)}")
        self.stdout.write(
            f"  Staff second factor: add key {DEMO_TOTP_BASE32} to an authenticator app, "
            "or run `python manage.py demo_totp` for the current code."
        )
