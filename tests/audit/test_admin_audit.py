"""The access log in the admin: searchable and exportable by those allowed to see it, never
editable; and the admin's patient pages log every record they show."""
import csv
import io

import pytest

from apps.audit.admin import EXPORT_FIELDS
from apps.audit.models import AccessLog
from apps.audit.services import record, record_list
from tests.factories import PatientFactory, StaffFactory

CHANGELIST = "/admin/audit/accesslog/"


def export(client, entries):
    response = client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [str(e.pk) for e in entries]})
    body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return response, list(csv.reader(io.StringIO(body)))


@pytest.fixture
def entries(db):
    alice = record("read", object_type="patients.patient", object_id="alice-record")
    bob = record("read", object_type="patients.patient", object_id="bob-record")
    return alice, bob


# --- seeing and searching -------------------------------------------------------------------

def test_the_admin_can_search_the_access_log(client_for, clinic_admin, entries):
    client = client_for(clinic_admin)

    response = client.get(CHANGELIST, {"q": "alice-record"})

    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert shown == [entries[0]]
    assert b"alice-record" in response.content and b"bob-record" not in response.content


def test_the_clinic_admin_role_without_superuser_can_see_the_log(client_for, entries):
    role_admin = StaffFactory(role="clinic_admin")

    response = client_for(role_admin).get(CHANGELIST)

    assert response.status_code == 200
    assert b"alice-record" in response.content and b"bob-record" in response.content


@pytest.mark.parametrize("role_fixture", ["front_desk", "nurse", "provider_user", "billing_user"])
def test_staff_without_the_view_permission_cannot_see_the_log(request, client_for, role_fixture, entries):
    user = request.getfixturevalue(role_fixture)
    client = client_for(user)

    listing = client.get(CHANGELIST)
    assert listing.status_code == 403
    assert b"alice-record" not in listing.content
    assert client.get(f"{CHANGELIST}{entries[0].pk}/change/").status_code == 403
    response = client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [str(entries[0].pk)]})
    assert response.status_code == 403
    assert not AccessLog.objects.filter(action="export").exists()


def test_patients_and_anonymous_visitors_cannot_reach_the_log(client, client_for, patient, entries):
    as_patient = client_for(patient.user).get(CHANGELIST)
    as_anonymous = client.get(CHANGELIST)

    for response in (as_patient, as_anonymous):
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
        assert b"alice-record" not in response.content


def test_an_unverified_admin_is_sent_to_mfa(client_for, clinic_admin, entries):
    response = client_for(clinic_admin, verified=False).get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/mfa/")


# --- never changed --------------------------------------------------------------------------

def test_the_log_has_no_add_change_or_delete_in_the_admin(client_for, clinic_admin, entries):
    client = client_for(clinic_admin)
    entry = entries[0]

    listing = client.get(CHANGELIST)
    detail = client.get(f"{CHANGELIST}{entry.pk}/change/")

    assert listing.context["has_add_permission"] is False
    assert set(dict(listing.context["action_form"].fields["action"].choices)) == {"", "export_csv"}
    assert detail.status_code == 200
    assert entry.object_id.encode() in detail.content
    assert detail.context["has_change_permission"] is False
    assert detail.context["has_delete_permission"] is False
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(f"{CHANGELIST}{entry.pk}/change/", {"action": "logout"}).status_code == 403
    assert client.post(f"{CHANGELIST}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AccessLog.objects.get(pk=entry.pk).action == "read"


def test_the_delete_selected_action_is_refused(client_for, clinic_admin, entries):
    client_for(clinic_admin).post(CHANGELIST, {"action": "delete_selected", "_selected_action": [str(entries[0].pk)], "post": "yes"})

    assert AccessLog.objects.filter(pk=entries[0].pk).exists()


# --- CSV export -----------------------------------------------------------------------------

def test_the_export_action_returns_the_selected_entries_as_csv(client_for, clinic_admin, entries):
    client = client_for(clinic_admin)

    response, rows = export(client, [entries[1]])

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="access-log.csv"'
    assert rows[0] == EXPORT_FIELDS
    assert len(rows) == 2
    assert rows[1][EXPORT_FIELDS.index("object_id")] == "bob-record"


def test_the_export_itself_is_logged(client_for, clinic_admin, entries):
    client = client_for(clinic_admin)

    export(client, entries)

    row = AccessLog.objects.get(action="export")
    assert row.actor_user == clinic_admin
    assert row.object_type == "audit.accesslog"
    assert row.detail == {"count": 2}


def test_exported_text_cannot_run_as_a_spreadsheet_formula(client, client_for, clinic_admin):
    """The user agent (like the attempted login) is typed by whoever calls us."""
    client.post("/accounts/login/", {"login": "nobody@example.test", "password": "x-wrong-pass"}, HTTP_USER_AGENT='=HYPERLINK("http://evil.example")')
    entry = AccessLog.objects.get(action="login_failed")

    _, rows = export(client_for(clinic_admin), [entry])

    user_agent = rows[1][EXPORT_FIELDS.index("user_agent")]
    assert not user_agent.startswith(("=", "+", "-", "@"))
    assert "HYPERLINK" in user_agent


# --- patient pages in the admin are logged ---------------------------------------------------

def test_opening_a_patient_in_the_admin_writes_a_read_row(client_for, clinic_admin):
    patient = PatientFactory()

    response = client_for(clinic_admin).get(f"/admin/patients/patient/{patient.pk}/change/")

    assert response.status_code == 200
    assert patient.mrn.encode() in response.content
    row = AccessLog.objects.get(action="read")
    assert row.patient_id == patient.pk
    assert row.object_type == "patients.patient"
    assert row.object_id == str(patient.pk)
    assert row.actor_user == clinic_admin
    assert row.role == "clinic_admin"
    assert row.path == f"/admin/patients/patient/{patient.pk}/change/"


def test_the_admin_patient_list_logs_one_entry_naming_each_patient_shown(client_for, clinic_admin):
    patients = PatientFactory.create_batch(3)

    response = client_for(clinic_admin).get("/admin/patients/patient/")

    assert response.status_code == 200
    assert all(p.mrn.encode() in response.content for p in patients)
    entry = AccessLog.objects.get(action="read")
    assert sorted(entry.patient_ids) == sorted(p.pk for p in patients)
    assert (entry.object_type, entry.object_id, entry.patient_id) == ("patients.patient", "", None)
    assert (entry.actor_user, entry.path, entry.detail) == (clinic_admin, "/admin/patients/patient/", {"view": "admin_changelist"})
    for p in patients:
        assert list(AccessLog.objects.for_patient(p.pk)) == [entry]


# --- list entries: searched by patient like single reads -------------------------------------

@pytest.fixture
def list_reads(db):
    """Alice read alone, then Alice and Bob read in one list page, then Carol alone."""
    alice, bob, carol = PatientFactory.create_batch(3)
    single = record("read", alice)
    listing = record_list("read", [alice, bob], detail={"view": "api_patient_list"})
    other = record("read", carol)
    return (alice, bob, carol), single, AccessLog.objects.get(pk=listing), other


def test_searching_the_log_by_a_patient_finds_the_list_pages_that_showed_them(client_for, clinic_admin, list_reads):
    (alice, bob, carol), single, listing, other = list_reads
    client = client_for(clinic_admin)

    def found(term):
        response = client.get(CHANGELIST, {"q": term})
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert found(str(alice.pk)) == {single, listing}
    assert found(str(bob.pk)) == {listing}
    assert found(str(bob.pk).replace("-", "")) == {listing}  # as the search on patient_id matches ids
    assert found(str(bob.pk)[:13]) == {listing}  # a fragment of the id
    assert found(str(carol.pk)) == {other}


def test_an_entry_shows_and_exports_the_patients_it_lists(client_for, clinic_admin, list_reads):
    (alice, bob, _), _, listing, _ = list_reads
    client = client_for(clinic_admin)

    detail = client.get(f"{CHANGELIST}{listing.pk}/change/")
    _, rows = export(client, [listing])

    assert detail.status_code == 200
    assert str(alice.pk).encode() in detail.content and str(bob.pk).encode() in detail.content
    assert rows[1][EXPORT_FIELDS.index("patient_ids")] == f"{alice.pk} {bob.pk}"
    assert rows[1][EXPORT_FIELDS.index("patient_id")] == ""
