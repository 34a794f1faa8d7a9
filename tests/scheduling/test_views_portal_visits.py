"""A visit's page, rescheduling and cancelling (with the cancellation window)."""
import pytest
from django.conf import settings

from apps.audit.models import AccessLog
from apps.scheduling import services
from apps.scheduling.models import Visit, VisitSlot
from tests.scheduling.factories import ProviderFactory
from tests.scheduling.portal_support import STAFF_ROLES, book

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(patient, make_slot, visit_type):
    """A PLANNED visit three days ahead: outside the 24 h cancellation window."""
    return book(patient, make_slot(hours_from_now=72), visit_type)


@pytest.fixture
def soon_visit(patient, make_slot, visit_type):
    """A PLANNED visit in three hours: inside the cancellation window."""
    return book(patient, make_slot(hours_from_now=3), visit_type)


def detail(visit):
    return f"/portal/schedule/visits/{visit.pk}/"


PAGES = ["", "reschedule/", "cancel/"]


# --- access -------------------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_the_owner_sees_each_page_and_it_is_audited(client_for, patient, visit, page):
    response = client_for(patient.user).get(detail(visit) + page)

    assert response.status_code == 200
    assert AccessLog.objects.filter(action="read", object_type="scheduling.visit", object_id=str(visit.pk),
                                    actor_user=patient.user).exists()


@pytest.mark.parametrize("page", PAGES)
def test_another_patient_gets_404(client_for, other_patient, visit, page):
    client = client_for(other_patient.user)

    assert client.get(detail(visit) + page).status_code == 404
    if page:
        assert client.post(detail(visit) + page, {}).status_code == 404
    visit.refresh_from_db()
    assert visit.status == Visit.Status.PLANNED


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_goes_to_login(client, visit, page):
    response = client.get(detail(visit) + page)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_are_redirected_to_the_staff_pages(request, client_for, visit, role):
    assert client_for(request.getfixturevalue(role)).get(detail(visit))["Location"] == "/staff/"


def test_the_visit_page_shows_the_local_time_and_the_change_deadline(client_for, patient, visit):
    content = client_for(patient.user).get(detail(visit)).content.decode()

    assert visit.start.astimezone(visit.location.tzinfo).tzname() in content
    assert "Reschedule" in content and "Cancel visit" in content


# --- reschedule ---------------------------------------------------------------------------

def test_the_reschedule_page_lists_other_free_times_of_the_same_type(client_for, patient, visit, make_slot):
    free = make_slot(hours_from_now=74)

    content = client_for(patient.user).get(detail(visit) + "reschedule/").content.decode()

    assert f'value="{free.pk}"' in content
    assert f'value="{visit.slot_id}"' not in content


def test_rescheduling_moves_the_visit(client_for, patient, visit, make_slot):
    old_slot = visit.slot
    new_slot = make_slot(hours_from_now=100)

    response = client_for(patient.user).post(detail(visit) + "reschedule/", {"slot": new_slot.pk})

    assert response.status_code == 302 and response["Location"] == detail(visit)
    visit.refresh_from_db(), old_slot.refresh_from_db(), new_slot.refresh_from_db()
    assert visit.slot == new_slot and visit.start == new_slot.start
    assert (old_slot.status, new_slot.status) == (VisitSlot.Status.FREE, VisitSlot.Status.BOOKED)


def test_rescheduling_to_any_provider_offering_the_type(client_for, patient, visit, visit_type, make_slot):
    other = ProviderFactory(offers=[visit_type])
    theirs = make_slot(hours_from_now=74, provider=other)
    client = client_for(patient.user)
    day = theirs.start.astimezone(theirs.location.tzinfo).date().isoformat()

    content = client.get(detail(visit) + "reschedule/", {"day": day, "provider": ""}).content.decode()
    response = client.post(detail(visit) + "reschedule/", {"slot": theirs.pk})

    assert f'value="{theirs.pk}"' in content
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.provider == other


def test_rescheduling_to_a_taken_time_answers_409(client_for, patient, other_patient, visit, visit_type, make_slot):
    taken = make_slot(hours_from_now=100)
    book(other_patient, taken, visit_type)

    response = client_for(patient.user).post(detail(visit) + "reschedule/", {"slot": taken.pk})

    assert response.status_code == 409
    assert "Choose another time" in response.content.decode()
    visit.refresh_from_db()
    assert visit.slot_id != taken.pk


def test_rescheduling_inside_the_window_is_refused_with_the_clinic_phone(client_for, patient, soon_visit, make_slot):
    new_slot = make_slot(hours_from_now=100)
    client = client_for(patient.user)

    page = client.get(detail(soon_visit) + "reschedule/")
    response = client.post(detail(soon_visit) + "reschedule/", {"slot": new_slot.pk})

    assert page.status_code == 200 and settings.CLINIC_PHONE in page.content.decode()
    assert response.status_code == 400
    assert settings.CLINIC_PHONE in response.content.decode()
    soon_visit.refresh_from_db()
    assert soon_visit.slot_id != new_slot.pk


# --- cancel -------------------------------------------------------------------------------

def test_cancelling_outside_the_window_cancels_and_frees_the_slot(client_for, patient, visit, front_desk, notifications):
    response = client_for(patient.user).post(detail(visit) + "cancel/", {"reason": "Feeling better"})

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CANCELLED and visit.cancel_reason == "Feeling better" and not visit.late_cancel
    assert VisitSlot.objects.get(pk=visit.slot_id).status == VisitSlot.Status.FREE
    assert "visit_cancelled" in notifications(front_desk)


def test_inside_the_window_the_patient_sees_why_and_the_phone(client_for, patient, soon_visit):
    client = client_for(patient.user)

    page = client.get(detail(soon_visit))
    cancel_page = client.get(detail(soon_visit) + "cancel/")

    for response in (page, cancel_page):
        content = response.content.decode()
        assert "24 hours" in content
        assert settings.CLINIC_PHONE in content
    assert "Cancel visit" not in page.content.decode()
    assert 'name="reason"' not in cancel_page.content.decode()


def test_cancelling_inside_the_window_answers_400_and_changes_nothing(client_for, patient, soon_visit):
    response = client_for(patient.user).post(detail(soon_visit) + "cancel/", {"reason": "Late"})

    assert response.status_code == 400  # CancellationWindowClosed is a rule (400) in the domain and the API
    assert settings.CLINIC_PHONE in response.content.decode()
    soon_visit.refresh_from_db()
    assert soon_visit.status == Visit.Status.PLANNED


def test_a_cancelled_visit_cannot_be_cancelled_or_moved_again(client_for, patient, visit, make_slot):
    services.visit_cancel(visit=visit, actor=patient.user)
    client = client_for(patient.user)

    cancel, move, page = client.post(detail(visit) + "cancel/", {}), client.get(detail(visit) + "reschedule/"), client.get(detail(visit))

    assert (cancel.status_code, move.status_code) == (409, 409)
    for refused in (cancel, move):
        assert "This visit is cancelled; it cannot be changed." in refused.content.decode()
    assert page.status_code == 200
    assert "Cancelled" in page.content.decode() and "Need to change it?" not in page.content.decode()
