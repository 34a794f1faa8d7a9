from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "apps.consents"
    label = "consents"
    verbose_name = "Consents and procedure plans"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here, not at the top: these modules import models (ours and the floors'),
        # which are not loaded yet when Django imports this AppConfig. All are imports down
        # the floors (core, accounts) or of this app itself.
        from apps.consents import roles, rules
        from apps.consents.staff_views.plans import patient_section
        from apps.patients.hooks import staff_patient_sections

        # Who may see and change plans, consents and cases (core's access layer).
        rules.register()
        # The consents permissions of each staff role, added to accounts' table before
        # ensure_roles() writes it (post_migrate, seed_demo).
        roles.extend_role_permissions()
        # The patient's surgical workflow on the staff patient page (patients never imports us).
        staff_patient_sections.connect(patient_section)
