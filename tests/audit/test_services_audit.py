"""What the access log records: sign-ins, failed sign-ins, sign-outs and patient reads, with
who (user or API key, and role), from where (address, user agent, request id) and for whom."""
from apps.audit.models import AccessLog
from apps.audit.services import record, record_many
from tests.factories import PatientFactory

LOGIN = "/accounts/login/"
PASSWORD = "correct-horse-battery"


def test_signing_in_writes_a_login_row(client, patient):
    user = patient.user

    client.post(LOGIN, {"login": user.email, "password": PASSWORD}, HTTP_USER_AGENT="TestBrowser/1.0", HTTP_X_REQUEST_ID="req-login-1")

    row = AccessLog.objects.get(action="login")
    assert row.actor_user == user
    assert row.actor_label == user.email
    assert row.role == "patient"
    assert row.object_type == "accounts.user" and row.object_id == str(user.pk)
    assert row.ip == "127.0.0.1"
    assert row.user_agent == "TestBrowser/1.0"
    assert row.request_id == "req-login-1"
    assert row.path == LOGIN


def test_a_staff_sign_in_is_logged_with_the_staff_role(client, provider_user):
    client.post(LOGIN, {"login": provider_user.email, "password": PASSWORD})

    row = AccessLog.objects.get(action="login")
    assert row.actor_user == provider_user
    assert row.role == "provider"


def test_a_wrong_password_writes_a_login_failed_row_naming_the_attempted_login(client, patient):
    client.post(LOGIN, {"login": patient.user.email, "password": "wrong-password-1"})

    row = AccessLog.objects.get(action="login_failed")
    assert row.actor_user is None
    assert row.actor_label == patient.user.email
    assert row.role == ""
    assert row.ip == "127.0.0.1"
    assert not AccessLog.objects.filter(action="login").exists()


def test_a_failed_sign_in_for_an_unknown_email_is_logged_too(client, db):
    client.post(LOGIN, {"login": "nobody@example.test", "password": "wrong-password-1"})

    assert AccessLog.objects.get(action="login_failed").actor_label == "nobody@example.test"


def test_signing_out_writes_a_logout_row(client_for, patient):
    client = client_for(patient.user)

    client.post("/accounts/logout/")

    row = AccessLog.objects.get(action="logout")
    assert row.actor_user == patient.user
    assert row.detail == {}


def test_an_api_key_read_is_logged_against_the_key_as_integrator(api_client, integrator_key):
    key, raw = integrator_key
    listed = PatientFactory()

    api_client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Api-Key {raw}")

    row = AccessLog.objects.get(action="read")
    assert row.actor_api_key == key
    assert row.actor_user is None
    assert row.actor_label == f"api-key:{key.name}"
    assert row.role == "integrator"
    # A list page is one entry naming the patients it showed.
    assert row.patient_ids == [listed.pk] and row.patient_id is None
    assert row.object_type == "patients.patient" and row.object_id == ""


def test_a_staff_api_read_is_logged_against_the_user(client_for, nurse):
    listed = PatientFactory()

    client_for(nurse).get(f"/api/v1/patients/{listed.pk}/")

    row = AccessLog.objects.get(action="read")
    assert row.actor_user == nurse
    assert row.role == "nurse"
    assert row.patient_id == listed.pk


def test_a_refused_api_request_reads_nothing(api_client, api_key_factory):
    _, raw = api_key_factory("audit:read")
    PatientFactory()

    api_client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Api-Key {raw}")

    assert not AccessLog.objects.filter(action="read").exists()


def test_record_outside_a_request_is_attributed_to_the_system(db):
    patient = PatientFactory()

    row = record("update", patient, detail={"fields": ["phone"]})

    assert row.actor_label == "system" and row.role == "system"
    assert row.actor_user is None and row.actor_api_key is None
    assert row.patient_id == patient.pk
    assert row.detail == {"fields": ["phone"]}


def test_record_many_writes_one_row_per_object(db):
    patients = PatientFactory.create_batch(3)

    record_many("read", patients)

    assert sorted(AccessLog.objects.values_list("patient_id", flat=True)) == sorted(p.pk for p in patients)


def test_record_many_of_nothing_writes_nothing(db):
    assert record_many("read", []) == []
    assert not AccessLog.objects.exists()
