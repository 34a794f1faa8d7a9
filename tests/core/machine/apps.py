from django.apps import AppConfig


class MachineConfig(AppConfig):
    name = "tests.core.machine"
    label = "machine"
    default_auto_field = "django.db.models.BigAutoField"
