"""Who may call each scheduling endpoint: anonymous 401, patients 403 (they use the portal),
unverified staff 401, each staff role per ROLE_PERMISSIONS, API keys per scope (clinical
decisions never by key). A refused call changes nothing; an allowed one answers its success
status with the object as it now is."""
import datetime

import pytest
from django.utils import timezone

from apps.accounts.roles import ROLE_PERMISSIONS
from apps.audit.models import AccessLog
from apps.scheduling import services
from apps.scheduling.models import Provider, RequestEvent, SlotEvent, Visit, VisitEvent, VisitRequest, VisitSlot
from tests.scheduling.api_support import API, book, keyed, session  # noqa: F401 (book is a fixture)
from tests.scheduling.factories import LocationFactory, ProviderFactory, VisitRequestFactory, WindowFactory

pytestmark = pytest.mark.django_db

# (name, method, url, staff permission, API-key scope or None when keys may never call it)
ENDPOINTS = [
    ("providers", "get", "/providers/", "scheduling.view_provider", "scheduling:read"),
    ("visit_types", "get", "/visit-types/", "scheduling.view_visittype", "scheduling:read"),
    ("slot_search", "get", "/slots/", "scheduling.view_visitslot", "scheduling:read"),
    ("slot_get", "get", "/slots/{slot}/", "scheduling.view_visitslot", "scheduling:read"),
    ("slot_generate", "post", "/slots/generate/", "scheduling.change_availabilitywindow", "scheduling:write"),
    ("slot_block", "post", "/slots/{slot}/block/", "scheduling.change_visitslot", "scheduling:write"),
    ("slot_unblock", "post", "/slots/{slot}/unblock/", "scheduling.change_visitslot", "scheduling:write"),
    ("request_list", "get", "/visit-requests/", "scheduling.view_visitrequest", "scheduling:read"),
    ("request_get", "get", "/visit-requests/{request}/", "scheduling.view_visitrequest", "scheduling:read"),
    ("request_create", "post", "/visit-requests/", "scheduling.add_visitrequest", "scheduling:write"),
    ("triage", "post", "/visit-requests/{request}/triage/", "scheduling.triage_visitrequest", None),
    ("review", "post", "/visit-requests/{request}/review/", "scheduling.review_visitrequest", None),
    ("override", "post", "/visit-requests/{request}/override-severity/", "scheduling.override_severity_visitrequest", None),
    ("offer", "post", "/visit-requests/{request}/offer/", "scheduling.offer_slots_visitrequest", "scheduling:write"),
    ("accept", "post", "/visit-requests/{request}/accept/", "scheduling.offer_slots_visitrequest", "scheduling:write"),
    ("decline", "post", "/visit-requests/{request}/decline/", "scheduling.offer_slots_visitrequest", "scheduling:write"),
    ("assign", "post", "/visit-requests/{request}/assign-immediate/", "scheduling.offer_slots_visitrequest", "scheduling:write"),
    ("request_cancel", "post", "/visit-requests/{request}/cancel/", "scheduling.change_visitrequest", "scheduling:write"),
    ("visit_list", "get", "/visits/", "scheduling.view_visit", "scheduling:read"),
    ("visit_get", "get", "/visits/{visit}/", "scheduling.view_visit", "scheduling:read"),
    ("book", "post", "/visits/", "scheduling.add_visit", "scheduling:write"),
    ("check_in", "post", "/visits/{visit}/check-in/", "scheduling.change_visit", "scheduling:write"),
    ("start", "post", "/visits/{visit}/start/", "scheduling.change_visit", "scheduling:write"),
    ("complete", "post", "/visits/{visit}/complete/", "scheduling.change_visit", "scheduling:write"),
    ("visit_cancel", "post", "/visits/{visit}/cancel/", "scheduling.change_visit", "scheduling:write"),
    ("no_show", "post", "/visits/{visit}/no-show/", "scheduling.change_visit", "scheduling:write"),
    ("reschedule", "post", "/visits/{visit}/reschedule/", "scheduling.change_visit", "scheduling:write"),
]
IDS = [e[0] for e in ENDPOINTS]
ROLES = {"front_desk": "front_desk", "nurse": "nurse", "provider": "provider_user", "billing": "billing_user"}


@pytest.fixture
def objects(make_slot, make_request, book, patient, visit_type, provider, location):
    slot = make_slot(hours_from_now=72)
    booked = book(make_slot(hours_from_now=96))
    visit_request = make_request()
    return {"slot": slot.pk, "request": visit_request.pk, "visit": booked.pk, "patient": patient.pk, "visit_type": visit_type.pk,
            "provider": provider.pk, "location": location.pk}


def body_for(name, objects):
    return {
        "book": {"patient": str(objects["patient"]), "slot": str(objects["slot"]), "visit_type": str(objects["visit_type"])},
        "request_create": {"patient": str(objects["patient"]), "reason": "Cough"},
        "offer": {"slots": [str(objects["slot"])]},
        "accept": {"slot": str(objects["slot"])},
        "assign": {"provider": str(objects["provider"])},
        "override": {"severity": "YELLOW", "reason": "Called back"},
        "reschedule": {"slot": str(objects["slot"])},
    }.get(name, {})


def call(client, endpoint, objects):
    name, method, url, _, _ = endpoint
    return getattr(client, method)(API + url.format(**objects), body_for(name, objects), format="json" if method == "post" else None)


def snapshot():
    return (Visit.objects.count(), VisitRequest.objects.count(), VisitEvent.objects.count(), RequestEvent.objects.count(),
            SlotEvent.objects.count(), AccessLog.objects.filter(action__in=["read", "create", "update"]).count())


# --- what an allowed call does -------------------------------------------------------------------
# Each allowed call is made on objects in the state its action starts from (arranged through the
# services, or set directly where no service leads there), and must answer what a caller who
# may do it gets: its success status and the object as it now is.

def arrange(name, objects, user):
    """Bring the objects to where `name` can succeed; returns the objects to call with."""
    visit_request = VisitRequest.objects.get(pk=objects["request"])
    visit = Visit.objects.get(pk=objects["visit"])
    if name == "triage":
        VisitRequest.objects.filter(pk=visit_request.pk).update(status=VisitRequest.Status.NEW)
    elif name == "review" and user is not None and not Provider.objects.filter(user=user).exists():
        ProviderFactory(user=user)  # only a provider reviews (their role grants the permission)
    elif name == "slot_unblock":
        services.slot_block(slot=VisitSlot.objects.get(pk=objects["slot"]), actor=None, reason="Arranged")
    elif name in ("accept", "decline"):
        services.visit_request_offer_slots(request=visit_request, slots=[objects["slot"]], actor=None)
    elif name == "assign":
        walk_in = VisitRequestFactory(patient=visit_request.patient, request_type=VisitRequest.Type.WALK_IN,
                                      location_id=objects["location"], visit_type=visit_request.visit_type)
        objects = {**objects, "request": walk_in.pk}
    elif name in ("start", "complete"):
        services.visit_check_in(visit=visit, actor=None)
        if name == "complete":
            services.visit_start(visit=visit, actor=None)
    elif name == "no_show":
        past = timezone.now() - datetime.timedelta(hours=1)
        Visit.objects.filter(pk=visit.pk).update(start=past, end=past + datetime.timedelta(minutes=30))
    return objects


def _ids(body):
    return [row["id"] for row in body["results"]]


# name -> (status, what the answer must show, given the objects)
SUCCESS = {
    "providers": (200, lambda body, o: str(o["provider"]) in _ids(body)),
    "visit_types": (200, lambda body, o: str(o["visit_type"]) in _ids(body)),
    "slot_search": (200, lambda body, o: str(o["slot"]) in _ids(body)),
    "slot_get": (200, lambda body, o: (body["id"], body["status"]) == (str(o["slot"]), "FREE")),
    "slot_generate": (200, lambda body, o: set(body) == {"created", "blocked", "retired"}),
    "slot_block": (200, lambda body, o: (body["id"], body["status"]) == (str(o["slot"]), "BLOCKED")),
    "slot_unblock": (200, lambda body, o: (body["id"], body["status"]) == (str(o["slot"]), "FREE")),
    "request_list": (200, lambda body, o: str(o["request"]) in _ids(body)),
    "request_get": (200, lambda body, o: (body["id"], body["status"]) == (str(o["request"]), "TRIAGED")),
    "request_create": (201, lambda body, o: (body["patient"], body["status"]) == (str(o["patient"]), "NEW")),
    "triage": (200, lambda body, o: (body["id"], body["status"]) == (str(o["request"]), "TRIAGED")),
    "review": (200, lambda body, o: body["id"] == str(o["request"]) and body["reviewed_at"] is not None),
    "override": (200, lambda body, o: (body["severity"], body["severity_override_reason"]) == ("YELLOW", "Called back")),
    "offer": (200, lambda body, o: body["status"] == "AWAITING_PATIENT_CONFIRMATION" and body["offer_expires_at"]),
    "accept": (201, lambda body, o: (body["slot"], body["request"], body["status"]) == (str(o["slot"]), str(o["request"]), "PLANNED")),
    "decline": (200, lambda body, o: (body["status"], body["offer_expires_at"]) == ("TRIAGED", None)),
    "assign": (201, lambda body, o: (body["request"], body["status"], body["is_walk_in"]) == (str(o["request"]), "CHECKED_IN", True)),
    "request_cancel": (200, lambda body, o: (body["id"], body["status"]) == (str(o["request"]), "CANCELLED")),
    "visit_list": (200, lambda body, o: str(o["visit"]) in _ids(body)),
    "visit_get": (200, lambda body, o: (body["id"], body["status"]) == (str(o["visit"]), "PLANNED")),
    "book": (201, lambda body, o: (body["slot"], body["patient"], body["status"]) == (str(o["slot"]), str(o["patient"]), "PLANNED")),
    "check_in": (200, lambda body, o: (body["status"], body["checked_in_at"] is not None) == ("CHECKED_IN", True)),
    "start": (200, lambda body, o: (body["status"], body["started_at"] is not None) == ("IN_PROGRESS", True)),
    "complete": (200, lambda body, o: (body["status"], body["completed_at"] is not None) == ("COMPLETED", True)),
    "visit_cancel": (200, lambda body, o: (body["id"], body["status"]) == (str(o["visit"]), "CANCELLED")),
    "no_show": (200, lambda body, o: (body["id"], body["status"]) == (str(o["visit"]), "NO_SHOW")),
    "reschedule": (200, lambda body, o: (body["id"], body["slot"], body["status"]) == (str(o["visit"]), str(o["slot"]), "PLANNED")),
}


def assert_success(endpoint, response, objects):
    name = endpoint[0]
    status, shows = SUCCESS[name]
    assert response.status_code == status, (name, response.status_code, response.json())
    assert shows(response.json(), objects), (name, response.json())


def test_every_endpoint_has_its_success_answer():
    assert set(SUCCESS) == set(IDS)


ALLOWED_ROLES = [(e, role) for e in ENDPOINTS for role in ROLES if e[3] in ROLE_PERMISSIONS[role]]
KEY_SCOPES = [("patients:read", "patients:write"), ("scheduling:read",), ("scheduling:write",),
              ("scheduling:read", "scheduling:write")]
ALLOWED_KEYS = [(e, scopes) for e in ENDPOINTS for scopes in KEY_SCOPES if e[4] is not None and e[4] in scopes]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_anonymous_callers_get_401(endpoint, objects, api_client):
    before = snapshot()

    response = call(api_client, endpoint, objects)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_patients_get_403_they_use_the_portal(endpoint, objects, patient):
    before = snapshot()

    response = call(session(patient.user), endpoint, objects)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_staff_without_a_verified_second_factor_get_401(endpoint, objects, clinic_admin):
    before = snapshot()

    response = call(session(clinic_admin, verified=False), endpoint, objects)

    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("endpoint,role", ALLOWED_ROLES, ids=[f"{e[0]}-{role}" for e, role in ALLOWED_ROLES])
def test_each_staff_role_may_do_what_role_permissions_grant(endpoint, role, objects, request):
    user = request.getfixturevalue(ROLES[role])
    objects = arrange(endpoint[0], objects, user)

    response = call(session(user), endpoint, objects)

    assert_success(endpoint, response, objects)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_each_staff_role_is_refused_what_role_permissions_do_not_grant(endpoint, objects, request):
    for role in [role for role in ROLES if endpoint[3] not in ROLE_PERMISSIONS[role]]:
        user = request.getfixturevalue(ROLES[role])
        before = snapshot()

        response = call(session(user), endpoint, objects)

        assert response.status_code == 403, (role, response.status_code)
        assert response.json()["code"] == "permission_denied"
        assert snapshot() == before, role


def test_the_role_table_reads_as_a_clinic_expects():
    """A readable spot check of ROLE_PERMISSIONS as the API uses it."""
    allowed = {role: {name for name, _, _, perm, _ in ENDPOINTS if perm in ROLE_PERMISSIONS[role]} for role in ROLES}

    assert allowed["billing"] == {"providers", "visit_types", "visit_list", "visit_get"}
    assert {"book", "offer", "triage", "slot_block", "request_create"} <= allowed["front_desk"]
    assert not {"override", "review", "slot_generate"} & allowed["front_desk"]
    assert {"override", "triage", "book"} <= allowed["nurse"] and "review" not in allowed["nurse"]
    assert {"review", "override", "triage", "check_in", "start", "complete"} <= allowed["provider"]
    assert not {"book", "offer", "slot_block", "request_create"} & allowed["provider"]


@pytest.mark.parametrize("endpoint,scopes", ALLOWED_KEYS, ids=[f"{e[0]}-{'+'.join(s)}" for e, s in ALLOWED_KEYS])
def test_api_keys_with_the_scope_may_call(endpoint, scopes, objects, api_key_factory):
    objects = arrange(endpoint[0], objects, None)

    response = call(keyed(api_key_factory(*scopes)[1]), endpoint, objects)

    assert_success(endpoint, response, objects)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_api_keys_without_the_scope_are_refused_and_never_make_clinical_decisions(endpoint, objects, api_key_factory):
    scope = endpoint[4]
    for scopes in [scopes for scopes in KEY_SCOPES if scope is None or scope not in scopes]:
        before = snapshot()

        response = call(keyed(api_key_factory(*scopes)[1]), endpoint, objects)

        assert response.status_code == 403, (scopes, response.status_code)
        assert response.json()["code"] == "permission_denied"
        assert snapshot() == before, scopes


def test_a_provider_with_a_profile_may_review(make_request, client_for):
    provider = ProviderFactory()
    visit_request = make_request(severity="ORANGE")

    response = session(provider.user).post(f"{API}/visit-requests/{visit_request.pk}/review/", {"note": "Seen"}, format="json")

    assert response.status_code == 200
    assert response.json()["needs_review"] is False


def test_staff_without_a_provider_profile_cannot_review(make_request, clinic_admin):
    visit_request = make_request(severity="ORANGE")

    response = session(clinic_admin).post(f"{API}/visit-requests/{visit_request.pk}/review/", {"note": "Seen"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "provider_required"
    visit_request.refresh_from_db()
    assert visit_request.reviewed_at is None


def test_the_clinic_admin_may_generate_slots(clinic_admin):
    location = LocationFactory()
    tomorrow = timezone.now().astimezone(location.tzinfo).date() + datetime.timedelta(days=1)
    window = WindowFactory(location=location, weekday=tomorrow.weekday())

    response = session(clinic_admin).post(f"{API}/slots/generate/", {"days": 3, "providers": [str(window.provider_id)]},
                                          format="json")

    assert response.status_code == 200
    assert response.json() == {"created": 18, "blocked": 0, "retired": 0}  # 08:00-17:00 in 30-minute slots
    assert VisitSlot.objects.filter(provider=window.provider, status=VisitSlot.Status.FREE).count() == 18
