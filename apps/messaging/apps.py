from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "apps.messaging"
    label = "messaging"
    verbose_name = "Messaging and notifications"

    def ready(self):
        from apps.messaging import checks  # noqa: F401  (registers the system checks)
        from apps.messaging.services import notify_many
        from apps.patients.services import staff_notice

        # The patients app's staff notices (a possible duplicate to review) go out as in-app
        # notifications.
        staff_notice.connect(notify_many)
