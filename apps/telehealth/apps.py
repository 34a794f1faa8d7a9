from django.apps import AppConfig


class TelehealthConfig(AppConfig):
    name = "apps.telehealth"
    label = "telehealth"
    verbose_name = "Telehealth"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here: these modules import models (ours and the floors'), not loaded yet
        # when Django imports this AppConfig. All imports go down the floors.
        from apps.telehealth import roles, rules, wiring

        # Who may see and change sessions (core's access layer).
        rules.register()
        # The telehealth permissions of each staff role (accounts' table, before ensure_roles).
        roles.extend_role_permissions()
        # Sessions follow their VIRTUAL visits (created, cancelled, rescheduled).
        wiring.connect()
