from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "apps.billing"
    label = "billing"
    verbose_name = "Billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here: these modules import models (ours and the floors'), not loaded yet when
        # Django imports this AppConfig. All imports go down the floors or stay in this app.
        from apps.billing import receivers, roles, rules
        from apps.billing.staff_views import patient_section
        from apps.consents import hooks as consents_hooks
        from apps.core.transitions import on_transition
        from apps.patients.hooks import staff_patient_sections
        from apps.scheduling.models import Visit

        rules.register()
        roles.extend_role_permissions()
        # Charges in the completion's own transaction: a visit moved to COMPLETED (core's
        # transition listener) and a surgical case completed (consents' hook).
        on_transition(receivers.visit_transition, model=Visit)
        consents_hooks.case_completed.connect(receivers.case_completed)
        # Stages 13-14 of the workflow timeline, and the deposit as a pre-op requirement
        # (BILLING_DEPOSIT_REQUIRED): consents asks, billing answers (consents never imports us).
        from apps.billing import workflow
        from apps.billing.models import Invoice
        from apps.billing.services import deposits

        consents_hooks.workflow_billing.connect(workflow.workflow_stages)
        consents_hooks.preop_requirements.connect(deposits.preop_requirements)
        on_transition(deposits.deposit_invoice_moved, model=Invoice)
        # Insurance cards and eligibility on the staff patient page (patients never imports us).
        staff_patient_sections.connect(patient_section)
        # The estimated share on the portal's booking confirm and accept-offer pages (scheduling asks).
        from apps.billing.booking_estimates import booking_estimate
        from apps.scheduling import hooks as scheduling_hooks

        scheduling_hooks.booking_estimate.connect(booking_estimate)
