from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "apps.records"
    label = "records"
    verbose_name = "Health records"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here, not at the top: these modules import models (ours and the floors'),
        # which are not loaded yet when Django imports this AppConfig. All are imports down the
        # floors (core, accounts, patients, scheduling) or of this app itself.
        from apps.core.transitions import on_transition
        from apps.patients.hooks import staff_patient_sections
        from apps.records import roles, rules, services, staff_views
        from apps.scheduling.hooks import staff_visit_links
        from apps.scheduling.models import Visit

        # Who may see and change records (core's access layer).
        rules.register()
        # The records permissions of each staff role, before ensure_roles() writes them.
        roles.extend_role_permissions()
        # A visit completed after its note was signed releases the visit summary.
        on_transition(services.on_visit_transition, model=Visit)
        # The staff patient page shows the chart (problems, allergies, medications, labs,
        # notes, documents) through patients' extension point.
        staff_patient_sections.connect(staff_views.patient_section)
        # The staff visit page links to the visit's note editor (scheduling's extension point).
        staff_visit_links.connect(staff_views.visit_note_link)
