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
        from apps.consents import hooks as consents_hooks
        from apps.core.transitions import on_transition
        from apps.scheduling.models import Visit

        rules.register()
        roles.extend_role_permissions()
        # Charges in the completion's own transaction: a visit moved to COMPLETED (core's
        # transition listener) and a surgical case completed (consents' hook).
        on_transition(receivers.visit_transition, model=Visit)
        consents_hooks.case_completed.connect(receivers.case_completed)
