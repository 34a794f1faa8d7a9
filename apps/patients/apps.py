from django.apps import AppConfig

from apps.core import access


class PatientsConfig(AppConfig):
    name = "apps.patients"
    label = "patients"
    verbose_name = "Patients"

    def ready(self):
        # Imported here, not at the top: each of these modules imports models (ours, allauth's,
        # core's), and Django imports apps.py before any model can be loaded (AppRegistryNotReady).
        # All are imports down the floors (core, accounts) or of this app itself.
        from apps.accounts.adapter import email_confirmed
        from apps.core.staff_views import staff_home_context
        from apps.patients import rules, selectors, services

        rules.register()
        access.set_patient_resolver(selectors.active_patient_for_user)
        staff_home_context.connect(selectors.staff_home_figures)
        # Verifying a portal email is what creates or links the registrant's patient record.
        email_confirmed.connect(services.registration_complete)
