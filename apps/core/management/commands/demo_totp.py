import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp

from apps.core.demo import DEMO_TOTP_KEY_HEX


class Command(BaseCommand):
    help = "Print the current 6-digit code of the demo staff authenticator (demo data only)."

    def handle(self, *args, **options):
        if not settings.DEBUG and not getattr(settings, "DEMO_MODE", False):
            raise CommandError("demo_totp works only with DEBUG or DEMO_MODE on.")
        code = totp(bytes.fromhex(DEMO_TOTP_KEY_HEX), step=30, t0=0, digits=6)
        left = 30 - int(time.time()) % 30
        self.stdout.write(f"{code:06d}  (valid for {left} more seconds)")
