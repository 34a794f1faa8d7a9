"""Who may call each scheduling endpoint: anonymous 401, patients 403 (they use the portal),
unverified staff 401, each staff role per ROLE_PERMISSIONS, API keys per scope (clinical
decisions never by key). A refused call changes nothing."""
import pytest

from apps.accounts.roles import ROLE_PERMISSIONS
from apps.audit.models import AccessLog
from apps.scheduling.models import RequestEvent, SlotEvent, Visit, VisitEvent, VisitRequest
from tests.scheduling.api_support import API, book, keyed, session  # noqa: F401 (book is a fixture)
from tests.scheduling.factories import LocationFactory, ProviderFactory

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
def objects(make_slot, make_request, book, patient, visit_type):
    slot = make_slot(hours_from_now=72)
    booked = book(make_slot(hours_from_now=96))
    visit_request = make_request()
    return {"slot": slot.pk, "request": visit_request.pk, "visit": booked.pk, "patient": patient.pk, "visit_type": visit_type.pk}


def body_for(name, objects):
    return {
        "book": {"patient": str(objects["patient"]), "slot": str(objects["slot"]), "visit_type": str(objects["visit_type"])},
        "request_create": {"patient": str(objects["patient"]), "reason": "Cough"},
        "offer": {"slots": [str(objects["slot"])]},
        "accept": {"slot": str(objects["slot"])},
        "override": {"severity": "YELLOW", "reason": "Called back"},
        "reschedule": {"slot": str(objects["slot"])},
    }.get(name, {})


def call(client, endpoint, objects):
    name, method, url, _, _ = endpoint
    return getattr(client, method)(API + url.format(**objects), body_for(name, objects), format="json" if method == "post" else None)


def snapshot():
    return (Visit.objects.count(), VisitRequest.objects.count(), VisitEvent.objects.count(), RequestEvent.objects.count(),
            SlotEvent.objects.count(), AccessLog.objects.filter(action__in=["read", "create", "update"]).count())


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


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_each_staff_role_gets_what_role_permissions_grant(endpoint, objects, request):
    _, _, _, perm, _ = endpoint
    for role, fixture in ROLES.items():
        user = request.getfixturevalue(fixture)
        before = snapshot()

        response = call(session(user), endpoint, objects)

        if perm in ROLE_PERMISSIONS[role]:
            assert response.status_code not in (401, 403) or response.json()["code"] == "provider_required", (role, response.json())
        else:
            assert response.status_code == 403, (role, response.status_code)
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


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_api_keys_need_the_scope_and_never_make_clinical_decisions(endpoint, objects, api_key_factory):
    _, _, _, _, scope = endpoint
    for scopes in [("patients:read", "patients:write"), ("scheduling:read",), ("scheduling:write",),
                   ("scheduling:read", "scheduling:write")]:
        before = snapshot()

        response = call(keyed(api_key_factory(*scopes)[1]), endpoint, objects)

        if scope is not None and scope in scopes:
            assert response.status_code not in (401, 403), (scopes, response.json())
        else:
            assert response.status_code == 403, (scopes, response.status_code)
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
    LocationFactory()

    response = session(clinic_admin).post(f"{API}/slots/generate/", {"days": 3}, format="json")

    assert response.status_code == 200
