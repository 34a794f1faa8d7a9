"""The consents admin: consent templates (publish and new version as actions through the
services; a published version is read-only there), operating rooms, the pre-op catalogue and
consultation visit types for the clinic admin; plans, consents and cases read-only; staff who
may only read templates run no action on them."""
import pytest

from apps.consents.models import ConsentTemplate, OperatingRoom, PreOpRequirement
from tests.consents.factories import RoomFactory, TemplateFactory

pytestmark = pytest.mark.django_db
TEMPLATES = "/admin/consents/consenttemplate/"


def _action(client, action, *templates):
    return client.post(TEMPLATES, {"action": action, "_selected_action": [str(t.pk) for t in templates]}, follow=True)


def test_the_clinic_admin_opens_every_consents_admin_page(flow, client_for, clinic_admin):
    flow.book()
    client = client_for(clinic_admin)
    pages = [TEMPLATES, "/admin/consents/operatingroom/", "/admin/consents/preoprequirement/",
             "/admin/consents/consultationvisittype/", "/admin/consents/procedureplan/", "/admin/consents/consentform/",
             "/admin/consents/surgicalcase/", f"/admin/consents/procedureplan/{flow.plan.pk}/change/",
             f"/admin/consents/consentform/{flow.consent.pk}/change/", f"/admin/consents/surgicalcase/{flow.case.pk}/change/"]

    answers = {url: client.get(url) for url in pages}

    assert {url: r.status_code for url, r in answers.items()} == {url: 200 for url in pages}
    assert "Consent to surgery" in answers[TEMPLATES].content.decode()
    assert "Labs" in answers["/admin/consents/preoprequirement/"].content.decode()


def test_publishing_a_draft_through_the_admin_action(client_for, clinic_admin):
    draft = TemplateFactory(published_at=None, title="Photography consent", kind="RECORDING")

    response = _action(client_for(clinic_admin), "publish", draft)

    assert response.status_code == 200 and "Published Photography consent v1" in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_published and draft.published_by_id == clinic_admin.pk


def test_publishing_again_or_a_broken_draft_is_refused_with_the_reason(client_for, clinic_admin):
    published = TemplateFactory()
    broken = TemplateFactory(published_at=None, sections=[])

    text = _action(client_for(clinic_admin), "publish", published, broken).content.decode()

    assert "not published (already published)" in text
    broken.refresh_from_db()
    assert not broken.is_published and f"{broken}: not published (" in text


def test_new_version_copies_a_published_template_into_an_editable_draft(client_for, clinic_admin):
    published = TemplateFactory(title="Consent to surgery")
    client = client_for(clinic_admin)

    text = _action(client, "new_version", published).content.decode()

    new = ConsentTemplate.objects.get(key=published.key, version=2)
    assert "Created Consent to surgery v2 (draft)" in text
    assert (new.is_published, new.sections, new.checks) == (False, published.sections, published.checks)
    edit_page = client.get(f"{TEMPLATES}{new.pk}/change/").content.decode()
    assert 'name="title"' in edit_page


def test_a_published_template_is_read_only_in_the_admin(client_for, clinic_admin):
    published = TemplateFactory(title="Consent to surgery")
    client = client_for(clinic_admin)

    page = client.get(f"{TEMPLATES}{published.pk}/change/").content.decode()
    changed = client.post(f"{TEMPLATES}{published.pk}/change/", {"title": "Changed", "key": published.key, "version": 1,
                                                                 "kind": "PROCEDURE", "sections": "[]", "validity_days": 1})
    deleted = client.post(f"{TEMPLATES}{published.pk}/delete/", {"post": "yes"})

    assert 'name="title"' not in page and "Consent to surgery" in page
    assert changed.status_code == 409 and "published" in changed.content.decode()
    published.refresh_from_db()
    assert published.title == "Consent to surgery" and published.validity_days == 90
    assert deleted.status_code == 403 and ConsentTemplate.objects.filter(pk=published.pk).exists()


def test_operating_rooms_and_pre_op_items_are_added_in_the_admin(client_for, clinic_admin):
    client = client_for(clinic_admin)

    room = client.post("/admin/consents/operatingroom/add/", {"name": "Theatre 9", "is_active": "on", "notes": ""})
    item = client.post("/admin/consents/preoprequirement/add/", {"code": "ecg", "label": "ECG", "instructions": "",
                                                                  "is_required": "on", "is_active": "on", "order": 40})

    assert room.status_code == 302 and OperatingRoom.objects.filter(name="Theatre 9", is_active=True).exists()
    assert item.status_code == 302 and PreOpRequirement.objects.get(code="ecg").label == "ECG"


def test_plans_consents_and_cases_cannot_be_changed_in_the_admin_and_nurses_only_read_templates(flow, client_for,
                                                                                                clinic_admin, nurse):
    flow.sign()
    admin = client_for(clinic_admin)
    RoomFactory()

    draft = TemplateFactory(published_at=None, title="Draft for nurses")
    nurse_client = client_for(nurse)

    add_plan = admin.get("/admin/consents/procedureplan/add/")
    delete_consent = admin.post(f"/admin/consents/consentform/{flow.consent.pk}/delete/", {"post": "yes"})
    nurse_page = nurse_client.get(TEMPLATES)
    _action(nurse_client, "publish", draft)
    _action(nurse_client, "new_version", flow.template)

    assert add_plan.status_code == 403 and delete_consent.status_code == 403
    flow.consent.refresh_from_db()
    assert flow.consent.status == "SIGNED"
    # A nurse reads the templates (view permission) but runs no action on them.
    assert nurse_page.status_code == 200 and "Draft for nurses" in nurse_page.content.decode()
    assert 'value="publish"' not in nurse_page.content.decode()
    draft.refresh_from_db()
    assert not draft.is_published and not ConsentTemplate.objects.filter(key=flow.template.key, version=2).exists()
