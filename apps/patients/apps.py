from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "apps.patients"
    label = "patients"
    verbose_name = "Patients"

    def ready(self):
        from apps.accounts.adapter import email_confirmed
        from apps.core import access
        from apps.core.staff_views import staff_home_context
        from apps.patients import rules, selectors, services

        rules.register()
        access.set_patient_resolver(selectors.active_patient_for_user)
        staff_home_context.connect(selectors.staff_home_figures)
        # Verifying a portal email is what creates or links the registrant's patient record.
        email_confirmed.connect(services.registration_complete)
