from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self):
        # Logins are recorded from Django's auth signals: the one place every login path
        # (allauth, admin, API session) passes through.
        from apps.audit import receivers  # noqa: F401
        from apps.audit.services import record_transition
        from apps.core import transitions

        # Every state change made through core's transition helper is audited from here.
        transitions.on_transition(record_transition)
