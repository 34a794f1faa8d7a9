"""/portal/schedule/requests/<id>/offer/: accept one held time or decline them all."""
import datetime

import pytest
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.messaging.models import Notification
from apps.scheduling import services
from apps.scheduling.models import Visit, VisitRequest, VisitSlot
from tests.scheduling.portal_support import STAFF_ROLES, offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def offered(make_request, make_slot, front_desk):
    """A request with two offered slots: (request, [slot, slot])."""
    request = make_request()
    slots = [make_slot(hours_from_now=72), make_slot(hours_from_now=96)]
    offer(request, slots, front_desk)
    request.refresh_from_db()
    return request, slots


def url(request):
    return f"/portal/schedule/requests/{request.pk}/offer/"


def test_the_offer_page_shows_the_held_times_and_the_deadline(client_for, patient, offered):
    request, slots = offered

    response = client_for(patient.user).get(url(request))

    content = response.content.decode()
    assert response.status_code == 200
    for slot in slots:
        assert f'value="{slot.pk}"' in content
    assert "held for you until" in content and "left" in content
    assert AccessLog.objects.filter(action="read", object_id=str(request.pk), detail__view="portal_offer").exists()


def test_another_patient_gets_404(client_for, other_patient, offered):
    request, slots = offered

    assert client_for(other_patient.user).get(url(request)).status_code == 404
    assert client_for(other_patient.user).post(url(request), {"action": "accept", "slot": slots[0].pk}).status_code == 404
    assert not Visit.objects.exists()


def test_anonymous_goes_to_login_and_staff_to_staff_pages(client, request, client_for, offered):
    offer_request, _ = offered

    assert client.get(url(offer_request))["Location"].startswith("/accounts/login/")
    for role in STAFF_ROLES:
        assert client_for(request.getfixturevalue(role)).get(url(offer_request))["Location"] == "/staff/"


def test_accepting_books_the_slot_and_shows_the_visit(client_for, patient, offered):
    request, (chosen, other) = offered
    client = client_for(patient.user)

    response = client.post(url(request), {"action": "accept", "slot": chosen.pk})

    visit = Visit.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == f"/portal/schedule/visits/{visit.pk}/"
    assert visit.slot == chosen
    chosen.refresh_from_db(), other.refresh_from_db(), request.refresh_from_db()
    assert (chosen.status, other.status) == (VisitSlot.Status.BOOKED, VisitSlot.Status.FREE)
    assert request.status == VisitRequest.Status.CONVERTED_TO_VISIT
    page = client.get(response["Location"])
    assert "Your visit is booked" in page.content.decode()


def test_accepting_without_choosing_a_time_is_a_form_error(client_for, patient, offered):
    request, _ = offered

    response = client_for(patient.user).post(url(request), {"action": "accept"})

    assert response.status_code == 400
    assert "Choose one of the times." in response.content.decode()


def test_declining_releases_the_times_with_the_reason(client_for, patient, offered, front_desk, notifications):
    request, slots = offered

    response = client_for(patient.user).post(url(request), {"action": "decline", "reason": "I am away that week"})

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == VisitRequest.Status.TRIAGED
    assert request.events.filter(reason="I am away that week").exists()
    assert set(VisitSlot.objects.filter(pk__in=[s.pk for s in slots]).values_list("status", flat=True)) == {VisitSlot.Status.FREE}
    assert "offer_declined" in notifications(front_desk)


def test_an_expired_offer_answers_409_with_a_clear_page(client_for, patient, offered):
    request, slots = offered
    past = timezone.now() - datetime.timedelta(minutes=1)
    VisitRequest.objects.filter(pk=request.pk).update(offer_expires_at=past)
    VisitSlot.objects.filter(pk__in=[s.pk for s in slots]).update(held_until=past)
    client = client_for(patient.user)

    page = client.get(url(request))
    accept = client.post(url(request), {"action": "accept", "slot": slots[0].pk})

    assert page.status_code == 409 and accept.status_code == 409
    assert "This offer has expired" in accept.content.decode()
    assert not Visit.objects.exists()


def test_an_offer_released_by_the_expiry_job_answers_409(client_for, patient, offered):
    request, slots = offered
    services.offers_expire(now=timezone.now() + datetime.timedelta(days=2))

    response = client_for(patient.user).post(url(request), {"action": "accept", "slot": slots[0].pk})

    assert response.status_code == 409
    assert "no longer open" in response.content.decode()


def test_accepting_twice_answers_409_and_links_to_the_visit(client_for, patient, offered):
    request, slots = offered
    client = client_for(patient.user)
    client.post(url(request), {"action": "accept", "slot": slots[0].pk})

    response = client.post(url(request), {"action": "accept", "slot": slots[0].pk})

    visit = Visit.objects.get(patient=patient)
    assert response.status_code == 409
    assert f"/portal/schedule/visits/{visit.pk}/" in response.content.decode()
    assert Visit.objects.count() == 1


def test_a_slot_that_was_not_offered_is_refused(client_for, patient, offered, make_slot):
    request, _ = offered
    stranger = make_slot(hours_from_now=150)

    response = client_for(patient.user).post(url(request), {"action": "accept", "slot": stranger.pk})

    assert response.status_code == 400
    assert not Visit.objects.exists()


def test_the_offer_and_booking_notifications_link_to_these_pages(client_for, patient, offered):
    request, slots = offered
    client = client_for(patient.user)
    client.post(url(request), {"action": "accept", "slot": slots[0].pk})

    links = list(Notification.objects.filter(recipient=patient.user, kind__in=["offer_made", "visit_booked"]).values_list("link", flat=True))
    assert len(links) == 2
    for link in links:
        assert client.get(link).status_code == 200
