from django.apps import AppConfig


class PortalApiConfig(AppConfig):
    """/api/v1/portal/: the patient's own data for phone apps, over the services the portal
    pages call (never a second copy of a rule). On the top floor, beside fhir: it reads and
    writes through the apps below and none of them imports it."""

    name = "apps.portal_api"
    label = "portal_api"
    verbose_name = "Patient app API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The offline-sync change log listens to the apps below (changes.py).
        from apps.portal_api import changes

        changes.connect()
