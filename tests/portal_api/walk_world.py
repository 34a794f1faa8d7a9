"""The patient app API's part of the hostile walk (tests/hardening/walk_table.py): rows for
/api/v1/portal/ and the app session endpoints, called as the world's patient (actor "app": JSON over the portal
session; the app's token goes through the same views: tests/portal_api/test_api_portal.py)."""


def portal_api_routes(Route, P, ANY, *, ids, in_days):
    book = (P("slot", "uuid"), P("visit_type", "uuid"))
    contact = (
        P("preferred_name", "text"), P("phone", "text"), P("address_line1", "text"), P("address_line2", "text"),
        P("city", "text"), P("state", "text"), P("postal_code", "text"), P("country", "text"),
        P("emergency_contact_name", "text"), P("emergency_contact_relationship", "text"),
        P("emergency_contact_phone", "text"), P("preferred_language", "choice"), P("timezone", "choice"),
        P("sms_opt_in", "bool"), P("email_opt_in", "bool"), P("quiet_hours_start", "time"), P("quiet_hours_end", "time"),
    )
    return [
        Route("api_app_session", "app"),
        Route("api_sign_out_everywhere", "app", get=False, body={"POST": ()}, base=lambda w: {"POST": {}},
              note="ends the walker's own session last of all: no fields to walk"),
        Route("app_profile", "app", body={"PATCH": contact}, base=lambda w: {"PATCH": {}}),
        Route("app_preferences", "app",
              body={"PATCH": (P("sms_opt_in", "bool"), P("email_opt_in", "bool"), P("quiet_hours_start", "time"),
                              P("quiet_hours_end", "time"))},
              base=lambda w: {"PATCH": {}}),
        Route("app_visit_types", "app"),
        Route("app_availability", "app", query=(P("visit_type", "uuid"), P("provider", "uuid"), P("day", "date")),
              query_base=lambda w: {"visit_type": str(w.visit_type.pk), "day": in_days(2)}),
        Route("app_appointments", "app", query=(P("when", "choice"),), body={"POST": book},
              base=lambda w: {"POST": {"slot": str(w.free_slot.pk), "visit_type": str(w.visit_type.pk)}}),
        Route("app_appointment", "app", path=ids(visit_id="visit")),
        Route("app_appointment_cancel", "app", path=ids(visit_id="visit"), get=False, body={"POST": (P("reason", "text"),)},
              base=lambda w: {"POST": {"reason": "Busy"}}),
        Route("app_appointment_reschedule", "app", path=ids(visit_id="visit"), get=False, body={"POST": (P("slot", "uuid"),)},
              base=lambda w: {"POST": {"slot": str(w.other_slot.pk)}}),
        Route("app_notifications", "app"),
        Route("app_notifications_unread", "app"),
        Route("app_notifications_read_all", "app", get=False, body={"POST": ()}, base=lambda w: {"POST": {}}),
        Route("app_notification_read", "app", path=ids(notification_id="notification"), get=False, body={"POST": ()},
              base=lambda w: {"POST": {}}),
        Route("app_threads", "app", body={"POST": (P("subject", "text"), P("body", "longtext"))},
              base=lambda w: {"POST": {"subject": "Question", "body": "Hello"}}),
        Route("app_thread_messages", "app", path=ids(thread_id="thread"), body={"POST": (P("body", "longtext"),)},
              base=lambda w: {"POST": {"body": "Thanks"}}),
    ]
