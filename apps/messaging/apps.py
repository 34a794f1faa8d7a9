from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "apps.messaging"
    label = "messaging"
    verbose_name = "Messaging and notifications"

    def ready(self):
        from apps.messaging import checks  # noqa: F401  (registers the system checks)
