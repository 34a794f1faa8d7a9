from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self):
        # Imported here, not at the top: receivers and services import the AccessLog model and
        # core.transitions defines an abstract model, and Django imports apps.py before any
        # model can be loaded (AppRegistryNotReady).
        from apps.audit import receivers  # noqa: F401  (logins, from Django's auth signals)
        from apps.audit.services import record_transition
        from apps.core import transitions

        # Every state change made through core's transition helper is audited from here.
        transitions.on_transition(record_transition)
