"""Who may call each records endpoint: anonymous 401, patients 403 (they use the portal),
unverified staff 401, each staff role per ROLE_PERMISSIONS, API keys per scope (writing and
signing notes and deciding refills never by key). A refused call changes nothing; an allowed
one answers its success status with the object as it now is."""
import pytest
from django.utils import timezone

from apps.accounts.roles import ROLE_PERMISSIONS
from apps.audit.models import AccessLog
from apps.records import services
from apps.records.models import (
    AllergyEvent, Document, LabResult, MedicationEvent, NoteAddendum, ProblemEvent, RefillEvent, VisitNote,
)
from tests.conftest import api_keyed_client as keyed, api_session as session
from tests.records.factories import PDF, allergy, lab, make_visit, medication, problem, upload, write_note

pytestmark = pytest.mark.django_db
API = "/api/v1/records"

# (name, method, url, staff permission, API-key scope or None when keys may never call it)
ENDPOINTS = []
for kind, plural in (("problem", "problems"), ("allergy", "allergies"), ("medication", "medications")):
    ENDPOINTS += [
        (f"{kind}_list", "get", f"/{plural}/?patient={{patient}}", f"records.view_{kind}", "records:read"),
        (f"{kind}_get", "get", f"/{plural}/{{{kind}}}/", f"records.view_{kind}", "records:read"),
        (f"{kind}_create", "post", f"/{plural}/", f"records.add_{kind}", "records:write"),
        (f"{kind}_update", "patch", f"/{plural}/{{{kind}}}/", f"records.change_{kind}", "records:write"),
        (f"{kind}_status", "post", f"/{plural}/{{{kind}}}/status/", f"records.change_{kind}", "records:write"),
    ]
ENDPOINTS += [
    ("refill_list", "get", "/refill-requests/", "records.view_refillrequest", "records:read"),
    ("refill_get", "get", "/refill-requests/{refill}/", "records.view_refillrequest", "records:read"),
    ("refill_decide", "post", "/refill-requests/{refill}/decide/", "records.decide_refillrequest", None),
    ("note_list", "get", "/notes/?patient={patient}", "records.view_visitnote", "records:read"),
    ("note_get", "get", "/notes/{note}/", "records.view_visitnote", "records:read"),
    ("note_create", "post", "/notes/", "records.add_visitnote", None),
    ("note_update", "patch", "/notes/{note}/", "records.change_visitnote", None),
    ("note_sign", "post", "/notes/{note}/sign/", "records.sign_visitnote", None),
    ("note_addendum", "post", "/notes/{signed_note}/addenda/", "records.add_noteaddendum", None),
    ("lab_list", "get", "/lab-results/?patient={patient}", "records.view_labresult", "records:read"),
    ("lab_get", "get", "/lab-results/{lab}/", "records.view_labresult", "records:read"),
    ("lab_create", "post", "/lab-results/", "records.add_labresult", "records:write"),
    ("lab_release", "post", "/lab-results/{lab}/release/", "records.release_labresult", "records:write"),
    ("document_list", "get", "/documents/?patient={patient}", "records.view_document", "records:read"),
    ("document_get", "get", "/documents/{document}/", "records.view_document", "records:read"),
    ("document_create", "post", "/documents/", "records.add_document", "records:write"),
    ("document_download", "get", "/documents/{document}/download/", "records.view_document", "records:read"),
    ("document_share", "post", "/documents/{document}/share/", "records.share_document", "records:write"),
]
IDS = [e[0] for e in ENDPOINTS]
ROLES = {"front_desk": "front_desk", "nurse": "nurse", "provider": "provider_user", "billing": "billing_user"}
KEY_SCOPES = [("patients:read", "patients:write"), ("records:read",), ("records:write",)]


@pytest.fixture
def objects(patient, provider, provider_user):
    med = medication(patient, provider_user, prescriber=provider)
    draft = write_note(make_visit(patient, provider), provider_user)
    signed = write_note(make_visit(patient, provider), provider_user, sign=True)
    return {
        "patient": patient.pk, "problem": problem(patient, provider_user).pk, "allergy": allergy(patient, provider_user).pk,
        "medication": med.pk, "provider": provider.pk,
        "refill": services.refill_request_create(medication=med, actor=patient.user, pharmacy="Main St").pk,
        "note": draft.pk, "signed_note": signed.pk, "visit": make_visit(patient, provider).pk,
        "lab": lab(patient, provider_user).pk,
        "document": services.document_upload(patient=patient, actor=provider_user, upload=upload("r.pdf", PDF),
                                             category="REFERRAL").pk,
    }


def body_for(name, o):
    now = timezone.now().isoformat()
    return {
        "problem_create": {"patient": str(o["patient"]), "code": "I10", "description": "Hypertension"},
        "problem_update": {"description": "Essential hypertension"},
        "problem_status": {"status": "RESOLVED"},
        "allergy_create": {"patient": str(o["patient"]), "substance": "Latex", "severity": "MILD"},
        "allergy_update": {"reaction": "Rash"},
        "allergy_status": {"status": "INACTIVE"},
        "medication_create": {"patient": str(o["patient"]), "name": "Lisinopril", "dose": "10 mg", "frequency": "daily",
                              "start_date": "2025-01-02"},
        "medication_update": {"dose": "1000 mg"},
        "medication_status": {"status": "ON_HOLD"},
        "refill_decide": {"approve": True, "note": "Sent"},
        "note_create": {"visit": str(o["visit"])},
        "note_update": {"plan": "Rest and fluids."},
        "note_addendum": {"text": "Culture negative."},
        "lab_create": {"patient": str(o["patient"]), "test_name": "Glucose", "loinc_code": "2345-7", "value": "105",
                       "unit": "mg/dL", "reference_low": "70", "reference_high": "99", "collected_at": now,
                       "resulted_at": now},
        "document_create": {"patient": str(o["patient"]), "category": "INSURANCE_CARD", "file": upload("card.pdf", PDF)},
    }.get(name, {})


def call(client, endpoint, objects):
    name, method, url, _, _ = endpoint
    body = body_for(name, objects)
    fmt = "multipart" if name == "document_create" else "json"
    if method == "get":
        return client.get(API + url.format(**objects))
    return getattr(client, method)(API + url.format(**objects), body, format=fmt)


def snapshot():
    return (ProblemEvent.objects.count(), AllergyEvent.objects.count(), MedicationEvent.objects.count(),
            RefillEvent.objects.count(), VisitNote.objects.count(), VisitNote.objects.filter(status="SIGNED").count(),
            NoteAddendum.objects.count(), LabResult.objects.count(), LabResult.objects.filter(status="RELEASED").count(),
            Document.objects.count(), Document.objects.filter(shared_with_patient=True).count(),
            AccessLog.objects.filter(action__in=["read", "create", "update"]).count())


def _ids(body):
    return [row["id"] for row in body["results"]]


def _is(key, **expected):
    return lambda body, o: body["id"] == str(o[key]) and all(body[k] == v for k, v in expected.items())


SUCCESS = {
    "problem_list": (200, lambda b, o: str(o["problem"]) in _ids(b)),
    "problem_get": (200, _is("problem", code="E11.9")),
    "problem_create": (201, lambda b, o: (b["code"], b["status"]) == ("I10", "ACTIVE")),
    "problem_update": (200, _is("problem", description="Essential hypertension")),
    "problem_status": (200, _is("problem", status="RESOLVED")),
    "allergy_list": (200, lambda b, o: str(o["allergy"]) in _ids(b)),
    "allergy_get": (200, _is("allergy", substance="Penicillin")),
    "allergy_create": (201, lambda b, o: (b["substance"], b["severity"]) == ("Latex", "MILD")),
    "allergy_update": (200, _is("allergy", reaction="Rash")),
    "allergy_status": (200, _is("allergy", status="INACTIVE")),
    "medication_list": (200, lambda b, o: str(o["medication"]) in _ids(b)),
    "medication_get": (200, _is("medication", name="Metformin")),
    "medication_create": (201, lambda b, o: (b["name"], b["status"]) == ("Lisinopril", "ACTIVE")),
    "medication_update": (200, _is("medication", dose="1000 mg")),
    "medication_status": (200, _is("medication", status="ON_HOLD")),
    "refill_list": (200, lambda b, o: str(o["refill"]) in _ids(b)),
    "refill_get": (200, _is("refill", status="REQUESTED", pharmacy="Main St")),
    "refill_decide": (200, _is("refill", status="APPROVED", decision_note="Sent")),
    "note_list": (200, lambda b, o: {str(o["note"]), str(o["signed_note"])} <= set(_ids(b))),
    "note_get": (200, _is("note", status="DRAFT")),
    "note_create": (201, lambda b, o: (b["visit"], b["status"]) == (str(o["visit"]), "DRAFT")),
    "note_update": (200, _is("note", plan="Rest and fluids.", status="DRAFT")),
    "note_sign": (200, lambda b, o: b["id"] == str(o["note"]) and b["status"] == "SIGNED" and b["signed_at"]),
    "note_addendum": (201, lambda b, o: b["text"] == "Culture negative." and b["created_at"]),
    "lab_list": (200, lambda b, o: str(o["lab"]) in _ids(b)),
    "lab_get": (200, _is("lab", status="ENTERED", loinc_code="4548-4")),
    "lab_create": (201, lambda b, o: (b["loinc_code"], b["abnormal_flag"], b["status"]) == ("2345-7", "H", "ENTERED")),
    "lab_release": (200, lambda b, o: b["id"] == str(o["lab"]) and b["status"] == "RELEASED" and b["released_at"]),
    "document_list": (200, lambda b, o: str(o["document"]) in _ids(b)),
    "document_get": (200, _is("document", content_type="application/pdf", shared_with_patient=False)),
    "document_create": (201, lambda b, o: (b["category"], b["content_type"]) == ("INSURANCE_CARD", "application/pdf")),
    "document_download": (200, None),
    "document_share": (200, _is("document", shared_with_patient=True)),
}


def assert_success(endpoint, response, objects):
    name = endpoint[0]
    status, shows = SUCCESS[name]
    if shows is None:  # the file itself
        assert response.status_code == status and b"".join(response.streaming_content) == PDF
        return
    assert response.status_code == status, (name, response.status_code, response.json())
    assert shows(response.json(), objects), (name, response.json())


def test_every_endpoint_has_its_success_answer():
    assert set(SUCCESS) == set(IDS)


ALLOWED_ROLES = [(e, role) for e in ENDPOINTS for role in ROLES if e[3] in ROLE_PERMISSIONS[role]]
ALLOWED_KEYS = [(e, scopes) for e in ENDPOINTS for scopes in KEY_SCOPES if e[4] is not None and e[4] in scopes]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_anonymous_patients_and_unverified_staff_are_refused(endpoint, objects, api_client, patient, clinic_admin):
    before = snapshot()
    anonymous = call(api_client, endpoint, objects)
    as_patient = call(session(patient.user), endpoint, objects)
    unverified = call(session(clinic_admin, verified=False), endpoint, objects)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    assert (as_patient.status_code, as_patient.json()["code"]) == (403, "permission_denied")
    assert unverified.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("endpoint,role", ALLOWED_ROLES, ids=[f"{e[0]}-{role}" for e, role in ALLOWED_ROLES])
def test_each_staff_role_may_do_what_role_permissions_grant(endpoint, role, objects, request):
    user = request.getfixturevalue(ROLES[role])
    assert_success(endpoint, call(session(user), endpoint, objects), objects)


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
    allowed = {role: {name for name, _, _, perm, _ in ENDPOINTS if perm in ROLE_PERMISSIONS[role]} for role in ROLES}
    assert allowed["front_desk"] == {"document_list", "document_get", "document_create", "document_download",
                                     "document_share"}
    assert allowed["billing"] == {"note_list", "note_get", "document_list", "document_get", "document_download"}
    assert {"note_sign", "lab_release", "refill_decide"} <= allowed["provider"]
    assert not {"note_sign", "note_create", "lab_release", "refill_decide"} & allowed["nurse"]
    assert {"lab_create", "problem_create", "medication_status"} <= allowed["nurse"]


@pytest.mark.parametrize("endpoint,scopes", ALLOWED_KEYS, ids=[f"{e[0]}-{'+'.join(s)}" for e, s in ALLOWED_KEYS])
def test_api_keys_with_the_scope_may_call(endpoint, scopes, objects, api_key_factory):
    assert_success(endpoint, call(keyed(api_key_factory(*scopes)[1]), endpoint, objects), objects)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_api_keys_without_the_scope_are_refused_and_never_make_clinical_decisions(endpoint, objects, api_key_factory):
    scope = endpoint[4]
    for scopes in [scopes for scopes in KEY_SCOPES if scope is None or scope not in scopes]:
        before = snapshot()
        response = call(keyed(api_key_factory(*scopes)[1]), endpoint, objects)
        assert response.status_code == 403, (scopes, response.status_code)
        assert snapshot() == before, scopes


def test_another_providers_note_is_refused_to_a_provider(objects, api_key_factory):
    from tests.factories import StaffFactory
    other = StaffFactory(role="provider")
    response = session(other).patch(f"{API}/notes/{objects['note']}/", {"plan": "x"}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "not_visit_provider")
    assert VisitNote.objects.get(pk=objects["note"]).plan == "Fluids, rest, paracetamol."


def test_unknown_ids_are_404_in_the_one_error_format(objects, provider_user):
    import uuid
    response = session(provider_user).get(f"{API}/lab-results/{uuid.uuid4()}/")
    assert response.status_code == 404 and set(response.json()) == {"code", "message", "extra"}
