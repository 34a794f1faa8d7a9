"""A bounded schemathesis run against the API, served the way production serves it (issue 16,
"The API keeps its contract"). `.ci/run` calls it; by hand:

    .venv/bin/python .ci/schemathesis.py                      # its own database, then the run
    .venv/bin/python .ci/schemathesis.py --max-examples 5     # quicker
    .venv/bin/python .ci/schemathesis.py --help

What it does, in order:
  1. (re)creates its own PostgreSQL database (default clinic_schemathesis), migrates it and
     loads the demo data (`manage.py seed_demo`), all with clinic.settings.production;
  2. builds the run's fixtures through the apps' own services (this file, `fixtures`): an API
     key holding every scope, a verified staff session for the clinical decisions that keys
     may not take (triage, review, severity override), and objects in every state the
     operations act on (free, blocked and offered slots; planned, checked-in and started
     visits; new, triaged, ORANGE, offered and walk-in requests; threads), and prints their ids;
  3. writes a schemathesis config whose dictionaries hold those ids and binds them to the path
     parameters and body fields of each operation (OPERATIONS below), so that every operation
     reaches its real logic, not only 404 or 403;
  4. starts `python -m clinic.serve` with production settings exactly as bench/http.py does
     (gunicorn sync workers for HTTP, daphne for WebSockets, no collectstatic), fetches the
     schema it serves and runs `st run` with three checks: not_a_server_error,
     response_schema_conformance and status_code_conformance, at most --max-examples cases
     per operation, with a fixed --seed;
  5. prints which operations never answered 2xx (reported, not failed: a fuzzed body rarely
     lands exactly on a valid transition) and stops the server.

Exit status: schemathesis's (0 when no check failed), 2 on a setup error.

Operations of apps that have no entry in OPERATIONS are still run; their path ids are
random, so they reach 404 only: add their ids here when their fixtures exist."""
import sys
from pathlib import Path

if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# The production layout's start, stop and environment: the benchmarks' own (bench/http.py).
_spec = importlib.util.spec_from_file_location("bench_http", ROOT / "bench" / "http.py")
bench_http = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_http)
SetupError = bench_http.SetupError

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance"
SESSION_AUTHORIZATION = "Session"  # not "Api-Key ...": the session cookie authenticates

# operationId -> {parameter: dictionary}. A parameter is a path or query parameter's name, or
# "body.<field>" ("body.slots[*]" for each item of a list). Dictionaries are built by
# fixtures() below.
OPERATIONS = {
    "patients_list": {},
    "patients_retrieve": {"id": "patients"},
    "patients_update": {"id": "spare_patients"},
    "patients_partial_update": {"id": "spare_patients"},
    "patients_notification_preferences_retrieve": {"patient_id": "patients"},
    "patients_notification_preferences_partial_update": {"patient_id": "patients"},
    "patients_workflow_retrieve": {"patient_id": "patients"},
    "slots_list": {"provider": "providers", "visit_type": "visit_types", "location": "locations"},
    "slots_retrieve": {"id": "slots_block"},
    "slots_block_create": {"id": "slots_block"},
    "slots_unblock_create": {"id": "slots_blocked"},
    "slots_generate_create": {"body.providers[*]": "providers"},
    "visits_list": {"patient": "patients", "provider": "providers"},
    "visits_create": {"body.patient": "patients", "body.slot": "slots_book", "body.visit_type": "bookable_types",
                      "body.request": "requests_triaged"},
    "visits_retrieve": {"id": "visits_planned"},
    "visits_check_in_create": {"id": "visits_planned"},
    "visits_cancel_create": {"id": "visits_planned"},
    "visits_reschedule_create": {"id": "visits_planned", "body.slot": "slots_reschedule"},
    "visits_no_show_create": {"id": "visits_due"},
    "visits_start_create": {"id": "visits_checked_in"},
    "visits_complete_create": {"id": "visits_in_progress"},
    "visit_requests_list": {"patient": "patients"},
    "visit_requests_create": {"body.patient": "patients", "body.visit_type": "visit_types",
                              "body.preferred_provider": "providers", "body.location": "locations"},
    "visit_requests_retrieve": {"id": "requests_triaged"},
    "visit_requests_triage_create": {"id": "requests_new", "body.visit_type": "visit_types"},
    "visit_requests_review_create": {"id": "requests_orange"},
    "visit_requests_override_severity_create": {"id": "requests_triaged"},
    "visit_requests_offer_create": {"id": "requests_triaged", "body.slots[*]": "slots_offer",
                                    "body.visit_type": "bookable_types"},
    "visit_requests_accept_create": {"id": "requests_offered", "body.slot": "slots_offered"},
    "visit_requests_decline_create": {"id": "requests_offered"},
    "visit_requests_assign_immediate_create": {"id": "requests_walk_in", "body.provider": "in_person_providers",
                                               "body.visit_type": "bookable_types"},
    "visit_requests_cancel_create": {"id": "requests_triaged"},
    "threads_list": {"patient": "patients", "assigned_to": "staff_users"},
    "threads_create": {"body.patient": "patients"},
    "threads_retrieve": {"id": "threads"},
    "threads_messages_list": {"id": "threads"},
    "threads_messages_create": {"id": "threads"},
    "procedure_plans_list": {"patient": "patients"},
    "procedure_plans_create": {"body.patient": "patients", "body.consultation": "consultations", "body.surgeon": "surgeons"},
    "procedure_plans_retrieve": {"id": "plans_approved"},
    "procedure_plans_partial_update": {"id": "plans_draft", "body.surgeon": "providers"},
    "procedure_plans_submit_create": {"id": "plans_draft"},
    "procedure_plans_approve_create": {"id": "plans_submitted"},
    "procedure_plans_cancel_create": {"id": "plans_submitted"},
    "procedure_plans_new_version_create": {"id": "plans_approved"},
    "procedure_plans_preop_complete_create": {"id": "preop_plan", "item_id": "preop_items"},
    "consent_templates_retrieve": {"id": "templates"},
    "consents_list": {"patient": "patients", "plan": "plans_approved"},
    "consents_create": {"body.patient": "patients", "body.template": "templates", "body.plan": "plans_approved"},
    "consents_retrieve": {"id": "consents_pending"},
    "consents_revoke_create": {"id": "consents_signed"},
    "consents_verify_create": {"id": "consents_signed"},
    "consents_pdf_retrieve": {"id": "consents_signed"},
    "operating_rooms_availability_list": {"id": "rooms"},
    "case_items_trace_list": {"lot": "lots"},
    "surgical_cases_list": {"patient": "patients"},
    "surgical_cases_create": {"body.plan": "plans_signed", "body.consent": "consents_signed"},
    "surgical_cases_retrieve": {"id": "cases_scheduled"},
    "surgical_cases_book_theatre_create": {"id": "cases_scheduled", "body.room": "rooms", "body.start": "theatre_start",
                                           "body.end": "theatre_end"},
    "surgical_cases_cancel_create": {"id": "cases_scheduled"},
    "surgical_cases_start_create": {"id": "cases_ready"},
    "surgical_cases_items_create": {"id": "cases_in_progress"},
    "surgical_cases_complete_create": {"id": "cases_in_progress"},
}
# Who calls, when not the all-scopes API key: clinical decisions need an accountable clinician
# (a verified staff session), approving a plan its own surgeon, and the phone app's portal API
# a signed-in patient.
IDENTITIES = {
    "visit_requests_triage_create": "provider", "visit_requests_review_create": "provider",
    "visit_requests_override_severity_create": "provider", "procedure_plans_approve_create": "surgeon",
    # Notes and refill decisions are a clinician's; so are running a video visit's admission,
    # start and end. The waiting room is the patient's own.
    **{op: "provider" for op in (
        "records_notes_create", "records_notes_partial_update", "records_notes_addenda_create", "records_notes_sign_create",
        "records_notes_retrieve", "records_refill_requests_decide_create", "records_refill_requests_retrieve",
        "telehealth_sessions_admit_create", "telehealth_sessions_start_create", "telehealth_sessions_end_create",
        "telehealth_sessions_join_token_create", "telehealth_sessions_quality_create",
        "telehealth_sessions_running_late_create")},
    **{op: "patient" for op in (
        "telehealth_sessions_waiting_room_create", "telehealth_sessions_waiting_room_answers_create",
        "telehealth_sessions_waiting_room_device_check_create", "telehealth_sessions_waiting_room_leave_create")},
}
IDENTITY_PATHS = {"/api/v1/portal/": "patient"}


def identity(operation_id, path):
    for prefix, name in IDENTITY_PATHS.items():
        if path.startswith(prefix):
            return name
    return IDENTITIES.get(operation_id, "api_key")


def log(message):
    print(f"[schemathesis] {message}", flush=True)


# --- fixtures (child process, production settings) ----------------------------------------

def fixtures():
    """Build the run's objects through the services and print JSON: the API key, the staff
    session and the dictionaries of ids."""
    import django

    django.setup()
    import datetime

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY

    from apps.accounts.models import User
    from apps.accounts.scopes import SCOPES
    from apps.accounts.services import api_key_create
    from apps.messaging.threads.services import thread_create
    from apps.patients.models import Patient
    from apps.patients.services import patient_create
    from apps.scheduling import services as scheduling
    from apps.scheduling.models import Location, Mode, Provider, Severity, VisitSlot, VisitType

    now = timezone.now()
    _, raw_key = api_key_create(name=f"schemathesis-{secrets.token_hex(4)}", scopes=sorted(SCOPES))
    desk = User.objects.get(email="frontdesk@clinic.test")
    clinician = User.objects.get(email="provider@clinic.test")
    shah = Provider.objects.get(user=clinician)
    follow_up = VisitType.objects.get(name="Follow-up visit")
    location = Location.objects.get()
    patients = list(Patient.objects.active().order_by("mrn"))
    spare = [patient_create(data={"first_name": "Fuzz", "last_name": f"Target{i}", "date_of_birth": datetime.date(1980, 1, 1 + i),
                                  "sex_at_birth": "U", "email": f"fuzz{i}@example.test"}, flag_duplicates=False)
             for i in range(3)]

    # Free in-person slots of Dr. Shah (she offers the follow-up visit) beyond the cancellation
    # window, handed out to the operations in disjoint groups so one never takes another's.
    free = iter(VisitSlot.objects.free().filter(provider=shah, mode=Mode.IN_PERSON, start__gte=now + datetime.timedelta(days=3))
                .order_by("start")[:120])

    def take(n):
        return [next(free) for _ in range(n)]

    groups = {name: take(n) for name, n in
              (("slots_book", 15), ("slots_reschedule", 15), ("slots_offer", 15), ("slots_block", 10))}
    blocked = [scheduling.slot_block(slot=slot, actor=desk, reason="schemathesis fixture") for slot in take(6)]

    def book(n):
        return [scheduling.visit_book_for_patient(patient=patients[i % len(patients)], slot=slot, visit_type=follow_up,
                                                  actor=desk) for i, slot in enumerate(take(n))]

    planned, checked_in, in_progress = book(12), book(6), book(6)
    for visit in checked_in + in_progress:
        scheduling.visit_check_in(visit=visit, actor=desk)
    for visit in in_progress:
        scheduling.visit_start(visit=visit, actor=clinician)

    def request(i, **kwargs):
        return scheduling.visit_request_create(patient=patients[i % len(patients)], reason="Follow-up on a rash",
                                               visit_type=follow_up, actor=desk, **kwargs).request

    new = [request(i) for i in range(8)]
    triaged = [scheduling.visit_request_triage(request=request(i), actor=desk) for i in range(10)]
    orange = [scheduling.visit_request_triage(request=request(i), actor=clinician, severity=Severity.ORANGE,
                                              reason="Worsening for a week") for i in range(6)]
    offered, offered_slots = [], []
    for i in range(6):
        slots = take(2)
        offered.append(scheduling.visit_request_offer_slots(request=scheduling.visit_request_triage(request=request(i), actor=desk),
                                                            slots=slots, actor=desk, hold_hours=48))
        offered_slots += slots
    walk_ins = [scheduling.visit_request_create_walk_in(patient=patients[i % len(patients)], location=location,
                                                        reason="Walk-in: sore throat", actor=desk).request for i in range(8)]
    with transaction.atomic():  # PLANNED walk-ins whose start has passed: what a no-show is marked on
        due = [scheduling.create_visit(patient=patients[i % len(patients)], slot=None, visit_type=follow_up, actor=desk,
                                       provider=shah, location=location, is_walk_in=True, start=now - datetime.timedelta(hours=2 + i),
                                       end=now - datetime.timedelta(hours=1, minutes=30 - i)) for i in range(4)]
    threads = [thread_create(patient=patients[i % len(patients)], subject=f"Question {i}", body="About my results", author=desk)
               for i in range(4)]

    def signed_in(user):
        """Headers of a session as signing in leaves it (staff: with their second factor, the
        demo authenticator); the CSRF secret goes in the cookie and the header alike."""
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        if user.is_staff:
            session[DEVICE_ID_SESSION_KEY] = user.totpdevice_set.filter(confirmed=True).get().persistent_id
        session.create()
        csrf = secrets.token_hex(16)
        return {"Authorization": SESSION_AUTHORIZATION, "X-CSRFToken": csrf,
                "Cookie": f"sessionid={session.session_key}; csrftoken={csrf}"}

    ids = lambda objects: [str(o.pk) for o in objects]  # noqa: E731
    consents = consents_fixtures(patients=patients, desk=desk, location=location, now=now)
    print(json.dumps({
        "headers": {
            "api_key": {"Authorization": f"Api-Key {raw_key}"},
            "provider": signed_in(clinician),
            "surgeon": signed_in(User.objects.get(email="dr.lee@clinic.test")),
            "patient": signed_in(User.objects.get(email="patient@clinic.test")),
        },
        "dictionaries": {
            "patients": ids(patients), "spare_patients": ids(spare),
            "providers": ids(Provider.objects.filter(is_active=True)),
            "in_person_providers": [str(shah.pk)],
            "visit_types": ids(VisitType.objects.filter(is_active=True)), "bookable_types": [str(follow_up.pk)],
            "locations": [str(location.pk)],
            "staff_users": [u.pk for u in User.objects.filter(is_staff=True)],  # integer ids
            **{name: ids(slots) for name, slots in groups.items()},
            "slots_blocked": ids(blocked), "slots_offered": ids(offered_slots),
            "visits_planned": ids(planned), "visits_checked_in": ids(checked_in), "visits_in_progress": ids(in_progress),
            "visits_due": ids(due),
            "requests_new": ids(new), "requests_triaged": ids(triaged), "requests_orange": ids(orange),
            "requests_offered": ids(offered), "requests_walk_in": ids(walk_ins),
            "threads": ids(threads),
            **{name: [str(v) for v in values] for name, values in consents.items()},
        },
    }))


def consents_fixtures(*, patients, desk, location, now):
    """Plans, consents and surgical cases in each state their operations act on, through the
    consents services, from the demo's surgeon and published procedure template."""
    import datetime

    from django.utils import timezone

    from apps.accounts.demo import verified_login
    from apps.consents import services
    from apps.consents.demo import DEMO_LINES, _completed_consultation
    from apps.patients.services import patient_create
    from apps.consents.models import ConsentTemplate, OperatingRoom
    from apps.scheduling.models import Provider

    surgeon = Provider.objects.select_related("user").get(user__email="dr.lee@clinic.test")
    surgeon.user.is_verified = lambda: True  # as the demo does: their authenticator stands for the step-up
    template = ConsentTemplate.objects.filter(key="procedure-surgery", published_at__isnull=False).latest("version")
    rooms = list(OperatingRoom.objects.filter(is_active=True))
    counter = iter(range(1000))

    def consultation(patient):
        return _completed_consultation(patient, surgeon, desk, location)

    def draft(patient=None):
        patient = patient or patients[next(counter) % len(patients)]
        return services.procedure_plan_create(patient=patient, consultation=consultation(patient),
                                              surgeon=surgeon, lines=DEMO_LINES[:1], actor=surgeon.user)

    def submitted(patient=None):
        return services.procedure_plan_submit(plan=draft(patient), actor=surgeon.user)

    def approved(patient=None):
        return services.procedure_plan_approve(plan=submitted(patient), actor=surgeon.user)

    def sent(patient=None):
        plan = approved(patient)
        return plan, services.consent_create(patient=plan.patient, template=template, plan=plan, actor=desk)

    def signed(patient=None):
        plan, consent = sent(patient)
        answers = {check["key"]: check["answer"] for check in template.checks}
        return plan, services.consent_sign(consent=consent, actor=plan.patient.user, acknowledged=template.clause_keys(),
                                           answers=answers, typed_name=plan.patient.legal_name,
                                           typed_signature=plan.patient.legal_name, stepped_up_at=timezone.now(),
                                           ip="127.0.0.1", user_agent="schemathesis")

    def case(ready=False):
        # Its own patient (a portal login, who signs): the fuzzed consents of the demo patients
        # (POST /consents/, revoke) never touch the consent a case relies on.
        n = next(counter)
        user = verified_login(email=f"case{n}@example.test", full_name=f"Case Patient{n}")
        patient = patient_create(data={"first_name": "Case", "last_name": f"Patient{n}", "date_of_birth": datetime.date(1970, 1, 1),
                                       "sex_at_birth": "U", "email": user.email}, user=user, flag_duplicates=False)
        plan, consent = signed(patient)
        made = services.surgical_case_create(plan=plan, consent=consent, anaesthesia_type="GENERAL", actor=surgeon.user)
        if ready:
            start = (now + datetime.timedelta(days=100 + next(counter))).replace(minute=0, second=0, microsecond=0)
            services.theatre_book(case=made, room=rooms[0], start=start, end=start + datetime.timedelta(hours=2),
                                  actor=surgeon.user)
            for item in plan.preop_items.all():
                services.preop_item_complete(item=item, actor=surgeon.user)
        return made

    # A free morning in the clinic's time, a month ahead (the first booking takes it; the rest are 409).
    theatre = timezone.localtime(now + datetime.timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
    unsigned = [sent() for _ in range(3)]
    free_signed = [signed() for _ in range(2)]  # for POST /surgical-cases/: a plan and its consent
    preop_plan = approved()
    in_progress = [services.case_start(case=case(ready=True), actor=surgeon.user) for _ in range(3)]
    for i, started in enumerate(in_progress):
        services.case_item_record(case=started, kind="CONSUMABLE", name="Suture", manufacturer="Ethicon",
                                  lot_number=f"LOT-{i}", actor=surgeon.user)
    return {
        "plans_draft": [draft().pk for _ in range(4)],
        "plans_submitted": [submitted().pk for _ in range(3)],
        "plans_approved": [approved().pk for _ in range(3)] + [plan.pk for plan, _ in unsigned],
        "plans_signed": [plan.pk for plan, _ in free_signed],
        "preop_plan": [preop_plan.pk],
        "preop_items": list(preop_plan.preop_items.values_list("pk", flat=True)),
        "consents_pending": [consent.pk for _, consent in unsigned],
        "consents_signed": [consent.pk for _, consent in free_signed] + [signed()[1].pk for _ in range(2)],
        "templates": list(ConsentTemplate.objects.filter(published_at__isnull=False).values_list("pk", flat=True)),
        "rooms": [room.pk for room in rooms],
        "cases_scheduled": [case().pk for _ in range(3)],
        "cases_ready": [case(ready=True).pk for _ in range(2)],
        "cases_in_progress": [started.pk for started in in_progress],
        "lots": [f"LOT-{i}" for i in range(len(in_progress))],
        "consultations": [consultation(patients[i % len(patients)]).pk for i in range(4)],
        "surgeons": [surgeon.pk],
        "theatre_start": [theatre.strftime("%Y-%m-%dT%H:%M")],
        "theatre_end": [(theatre + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")],
    }


# --- the config ---------------------------------------------------------------------------

def _toml(value):
    """A TOML value from str / list / dict (JSON strings are TOML basic strings)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def operations(schema):
    """(operation_id, method, path) of every operation the schema serves."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("operationId"):
                yield operation["operationId"], method, path


def discover(base, schema, headers):
    """Ids for the operations OPERATIONS has no entry for (apps newer than this file): the first
    path parameter of /api/v1/<collection>/{id}/... takes the ids that the collection's list
    (GET /api/v1/<collection>/, asked as the operation's caller) answers, so their operations
    reach the objects the demo data holds. Returns ({dictionary: ids}, {operation_id: bindings})."""
    found, bindings = {}, {}
    for operation_id, _, path in operations(schema):
        if operation_id in OPERATIONS or "{" not in path:
            continue
        collection, _, rest = path.partition("{")
        if "get" not in schema["paths"].get(collection, {}):
            continue
        who = identity(operation_id, path)
        name = f"found_{who}_" + re.sub(r"[^a-z0-9]+", "_", collection.lower().removeprefix("/api/v1/")).strip("_")
        if name not in found:
            found[name] = _list_ids(base + collection, headers[who])
        if found[name]:
            bindings[operation_id] = {rest.partition("}")[0]: name}
    return {name: ids for name, ids in found.items() if ids}, bindings


def _list_ids(url, headers):
    try:
        _, body = bench_http.get(url, headers, timeout=30)
        data = json.loads(body)
    except (urllib.error.URLError, OSError, ValueError):  # a 4xx, or not JSON: nothing found
        return []
    rows = data.get("results") if isinstance(data, dict) else data
    return [str(row["id"]) for row in rows or [] if isinstance(row, dict) and row.get("id")]


def config_text(schema, headers, dictionaries, bindings, *, base_url):
    """schemathesis.toml: the API key on every request, the dictionaries of ids, and each
    operation's bindings and caller."""
    lines = [f"base-url = {_toml(base_url)}", f"headers = {_toml(headers['api_key'])}", ""]
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {_toml(values)}", ""]
    for operation_id, _, path in operations(schema):
        bound, who = bindings.get(operation_id, {}), identity(operation_id, path)
        if not bound and who == "api_key":
            continue
        lines += ["[[operations]]", f"include-operation-id = {_toml(operation_id)}"]
        if bound:
            lines.append(f"parameters = {_toml({k: {'dictionary': v} for k, v in bound.items()})}")
        if who != "api_key":
            lines.append(f"headers = {_toml(headers[who])}")
        lines.append("")
    return "\n".join(lines)


# --- the run ------------------------------------------------------------------------------

def recreate_database(database_url):
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise SetupError(f"unexpected database name {name!r}")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("SCHEMATHESIS_DATABASE_URL",
                                                                 "postgres://postgres@127.0.0.1:5432/clinic_schemathesis"))
    parser.add_argument("--redis-url", default=os.environ.get("SCHEMATHESIS_REDIS_URL", "redis://127.0.0.1:6379/8"))
    parser.add_argument("--max-examples", type=int, default=15, help="at most this many fuzzed cases per operation (15)")
    parser.add_argument("--seed", type=int, default=20261203, help="hypothesis seed (fixed, for a repeatable run)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers and schemathesis workers (2)")
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--server-log", default=None, help="write the server's output here (default: a temp file, shown on failure)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (config, schema, report)")
    parser.add_argument("st_args", nargs="*", help="more arguments for `st run` (after --)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="schemathesis-"))
    server = SimpleNamespace(secret_key=secrets.token_urlsafe(64), database_url=args.database_url, redis_url=args.redis_url,
                             workers=args.workers, max_requests=0, server_log=args.server_log or str(work / "server.log"))
    access_log = work / "access.log"
    os.environ["ACCESS_LOG"] = str(access_log)  # gunicorn's: every request's method, path and status
    env = bench_http.server_env(server)  # start_server builds the same from os.environ
    proc = None
    try:
        log(f"database {urlsplit(args.database_url).path.lstrip('/')}: recreate, migrate, seed_demo")
        recreate_database(args.database_url)
        bench_http.run_checked([PYTHON, "manage.py", "migrate", "--noinput"], env, "migrate")
        bench_http.run_checked([PYTHON, "manage.py", "seed_demo"], env, "seed_demo")
        built = json.loads(bench_http.run_checked([PYTHON, str(Path(__file__).resolve()), "fixtures"], env, "fixtures")
                           .strip().splitlines()[-1])
        log(f"fixtures: {sum(len(v) for v in built['dictionaries'].values())} ids in {len(built['dictionaries'])} dictionaries")

        proc, port, ws_port = bench_http.start_server(server)
        bench_http.wait_until_up(proc, port, ws_port)
        base = f"http://127.0.0.1:{port}"
        headers = built["headers"]
        _, body = bench_http.get(base + "/api/schema/?format=json", headers["api_key"], timeout=30)
        schema = json.loads(body)
        (work / "schema.json").write_bytes(body)
        found, discovered = discover(base, schema, headers)
        served = {operation_id for operation_id, _, _ in operations(schema)}
        bindings = {**discovered, **{o: b for o, b in OPERATIONS.items() if o in served}}
        (work / "schemathesis.toml").write_text(config_text(schema, headers, {**built["dictionaries"], **found}, bindings,
                                                            base_url=base))
        log(f"{len(served)} operations served at {base}; ids found in lists for: {', '.join(sorted(discovered)) or 'none'}")
        unbound = sorted(o for o, _, path in operations(schema) if "{" in path and o not in bindings)
        log(f"path ids left random (404 only): {', '.join(unbound) or 'none'}")

        command = [
            str(Path(PYTHON).parent / "st"), "--config-file", str(work / "schemathesis.toml"), "run", str(work / "schema.json"),
            "--checks", CHECKS, "--max-examples", str(args.max_examples), "--seed", str(args.seed),
            "--workers", str(args.workers), "--phases", args.phases, "--generation-database", "none",
            "--request-timeout", "30", "--no-color",
            # Hypothesis's health checks judge the generator (slow on a busy machine), not the API.
            "--suppress-health-check", "all", *args.st_args,
        ]
        log("+ st run ... (" + " ".join(command[command.index("--checks"):]) + ")")
        result = subprocess.run(command, cwd=work)
        summarize_reach(schema, access_log)
        if result.returncode != 0:
            log(f"schemathesis failed (exit {result.returncode}); server log: {server.server_log}")
        return result.returncode
    except SetupError as exc:
        log(f"setup error: {exc}")
        return 2
    finally:
        bench_http.stop_server(proc)
        if not args.keep and not args.server_log:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")


def summarize_reach(schema, access_log):
    """Per operation, the statuses it answered (from gunicorn's access log); the operations that
    never answered 2xx are listed: they were exercised but never reached success."""
    templates = []
    for path, item in schema["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "(\\?|$)")
        for method in item:
            templates.append((method.upper(), pattern, f"{method.upper()} {path}"))
    statuses = {label: set() for _, _, label in templates}
    request_line = re.compile(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3}) ')
    try:
        lines = access_log.read_text(errors="replace").splitlines()
    except OSError:
        return
    for line in lines:
        match = request_line.search(line)
        if not match:
            continue
        method, target, status = match.group(1), match.group(2), int(match.group(3))
        for wanted, pattern, label in templates:
            if wanted == method and pattern.match(target):
                statuses[label].add(status)
                break
    never = sorted(label for label, codes in statuses.items() if not any(200 <= c < 300 for c in codes))
    log(f"{len(lines)} requests; operations that never answered 2xx: {len(never)} of {len(statuses)}")
    for label in never:
        log(f"  {label}: {sorted(statuses[label]) or 'no request'}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "fixtures":
        sys.path.insert(0, str(ROOT))
        fixtures()
    else:
        sys.exit(main())
