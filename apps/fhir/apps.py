from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "apps.fhir"
    label = "fhir"
    verbose_name = "FHIR"
    default_auto_field = "django.db.models.BigAutoField"
