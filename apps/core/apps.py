from django.apps import AppConfig

from apps.core import checks  # noqa: F401  (registers the deploy checks; no models imported)


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"
