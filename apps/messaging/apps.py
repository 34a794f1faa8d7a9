from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "apps.messaging"
    label = "messaging"
    verbose_name = "Messaging and notifications"

    def ready(self):
        # Imports here, not at the top: apps.py is imported before the models are ready, and
        # ready() is where Django lets an app wire itself once they are.
        from apps.messaging import checks  # noqa: F401  (registers the system checks)
        from apps.messaging import outbox, rules, tasks
        from apps.messaging.services import notify_many
        from apps.patients.services import staff_notice

        rules.register()
        # "Deliver this row soon" reaches the Celery task through the outbox's hook, so the
        # outbox (and delivery, which uses it) never imports the tasks module.
        outbox.delivery_kick.connect(tasks.queue_delivery)
        # The patients app's staff notices (a possible duplicate to review) go out as in-app
        # notifications.
        staff_notice.connect(notify_many)
        # One-time sign-in codes by SMS (phone apps and the portal) go out through the outbox.
        from apps.accounts.adapter import sign_in_code_sms
        from apps.messaging.codes import send_sign_in_code

        sign_in_code_sms.connect(send_sign_in_code)
