from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "apps.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"

    def ready(self):
        # Imported here, not at the top: these modules import the models, which are not
        # loaded yet when Django imports this AppConfig.
        from apps.messaging import reminders, two_way
        from apps.scheduling import rules, selectors, sms_actions

        # Who may see and change requests, visits and slots (core's access layer).
        rules.register()
        # Messaging's extension points: texted C / X act on the patient's next visit, and a
        # visit reminder is re-checked against the visit just before it is sent.
        two_way.sms_confirm.connect(sms_actions.sms_confirm_next_visit)
        two_way.sms_cancel.connect(sms_actions.sms_cancel_next_visit)
        reminders.reminder_visit_check.connect(selectors.visit_reminder_wanted)
