from django.core.management.base import BaseCommand, CommandError

from apps.accounts.scopes import SCOPES
from apps.accounts.services import api_key_create
from apps.core.exceptions import ValidationFailed


class Command(BaseCommand):
    help = "Create an integrator API key. The key is printed once and stored only as a hash."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--scopes", nargs="+", required=True, help=f"Any of: {', '.join(sorted(SCOPES))} (space or comma separated)")

    def handle(self, *args, name, scopes, **options):
        wanted = [s for part in scopes for s in part.split(",") if s]
        try:
            key, raw = api_key_create(name=name, scopes=wanted)
        except ValidationFailed as exc:
            raise CommandError("; ".join(f"{f}: {' '.join(m)}" for f, m in exc.extra["fields"].items()))
        self.stdout.write(f"Created API key '{key.name}' with scopes {', '.join(key.scopes)}.")
        self.stdout.write("Send it as:  Authorization: Api-Key " + raw)
        self.stdout.write("This is the only time the key is shown.")
