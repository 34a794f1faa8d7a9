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
        Route("app_readings", "app", query=(P("kind", "choice"),), body={"POST": ()}, base=lambda w: {"POST": {}}),
        Route("app_reading_permissions", "app", body={"PATCH": (P("steps", "bool"), P("weight", "bool"))},
              base=lambda w: {"PATCH": {"steps": True}}),
        Route("app_threads", "app", body={"POST": (P("subject", "text"), P("body", "longtext"))},
              base=lambda w: {"POST": {"subject": "Question", "body": "Hello"}}),
        Route("app_thread_messages", "app", path=ids(thread_id="thread"), body={"POST": (P("body", "longtext"),)},
              base=lambda w: {"POST": {"body": "Thanks"}}),
        *device_routes(Route, P),
        *care_routes(Route, P),
    ]


def _walk_device(w):
    """The world patient's phone (registered once; the same token finds the same row)."""
    from apps.messaging.push.services import device_register

    device, _ = device_register(user=w.patient.user, platform="android", push_token="walk-device-token", app_version="1.0")
    return {"device_id": device.pk}


def device_routes(Route, P):
    """Devices and push preferences (apps/portal_api/devices.py)."""
    return [
        Route("app_devices", "app",
              body={"POST": (P("platform", "choice"), P("push_token", "text"), P("app_version", "text"))},
              base=lambda w: {"POST": {"platform": "ios", "push_token": "walk-new-token", "app_version": "2.0"}}),
        Route("app_device", "app", path=_walk_device,
              body={"PATCH": (P("push_token", "text"), P("app_version", "text"))},
              base=lambda w: {"PATCH": {"app_version": "1.1"}}),
        Route("app_push_preferences", "app",
              body={"PATCH": (P("appointment_reminders", "bool"), P("messages", "bool"), P("lab_results", "bool"),
                              P("bills", "bool"))},
              base=lambda w: {"PATCH": {}}),
    ]


def _sync_action(field):
    """A hostile value in one queued action's envelope: the whole batch is refused (400)."""
    action = {"client_id": "walk-1", "type": "thread", "data": {"subject": "S", "body": "B"}}
    return lambda value: [{**action, field: value}]


def care_routes(Route, P):
    """Consents, video visits, bills, records and sync (apps/portal_api/api_care.py, api_sync.py)."""
    from tests.billing.walk_world import books
    from tests.records.walk_world import chart
    from tests.telehealth.walk_world import session_kwargs

    def consent(w):
        return {"consent_id": w.consents.pending_consent.pk}

    def invoice(w):
        return {"invoice_id": books(w).invoice.pk}

    sign = (P("typed_name", "text"), P("typed_signature", "text"), P("secret", "text"), P("signature_png", "text"),
            P("acknowledged", "text", many=True), P("answers", "text", wrap=lambda v: {"fasting": v}))
    return [
        Route("app_sync", "app", query=(P("since", "text"), P("page_size", "int")),
              body={"POST": (P("actions", "text", wrap=_sync_action("client_id")),
                             P("actions", "choice", wrap=_sync_action("type")))},
              base=lambda w: {"POST": {"actions": _sync_action("client_id")("walk-1")}}),
        Route("app_consents", "app"),
        Route("app_consent", "app", path=consent),
        Route("app_consent_sign", "app", path=consent, get=False, body={"POST": sign},
              base=lambda w: {"POST": {"acknowledged": [], "answers": {}, "typed_name": "A B", "typed_signature": "A B"}},
              note="the baseline lacks the step-up: a 403 with nothing signed"),
        Route("app_telehealth_sessions", "app"),
        Route("app_telehealth_join_token", "app", path=session_kwargs(), get=False, body={"POST": ()},
              base=lambda w: {"POST": {}}, note="not admitted: 409"),
        Route("app_telehealth_device_check", "app", path=session_kwargs(), get=False,
              body={"POST": (P("camera", "bool"), P("microphone", "bool"), P("mic_level", "int"), P("rtt_ms", "int"),
                             P("download_kbps", "int"))},
              base=lambda w: {"POST": {"camera": True, "microphone": True}}),
        Route("app_bills", "app"),
        Route("app_balance", "app"),
        Route("app_bill", "app", path=invoice),
        Route("app_bill_pay", "app", path=invoice, get=False, body={"POST": (P("amount", "int"), P("source", "text"))},
              base=lambda w: {"POST": {"amount": "1.00", "source": "4000000000000002"}},
              note="no Idempotency-Key: 400 before anything is charged"),
        Route("app_payments", "app"),
        Route("app_health_summary", "app"),
        Route("app_visit_summaries", "app"),
        Route("app_lab_results", "app"),
        Route("app_documents", "app"),
        Route("app_refill_request", "app", path=lambda w: {"medication_id": chart(w).spare_medication.pk}, get=False,
              body={"POST": (P("pharmacy", "text"), P("note", "text"))}, base=lambda w: {"POST": {"pharmacy": "Elm St"}}),
    ]
