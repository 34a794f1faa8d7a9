"""The demo gives the demo patient a video visit a few minutes ahead, whose waiting room is
open now, once (running seed_demo again changes nothing)."""
import pytest
from django.utils import timezone

from apps.core.demo import seed_demo
from apps.telehealth import services
from apps.telehealth.models import TelehealthSession

pytestmark = pytest.mark.django_db


def test_the_demo_patient_has_a_video_visit_whose_waiting_room_is_open():
    lines = seed_demo()
    assert any(line.startswith("video visit: patient@clinic.test") for line in lines)
    session = TelehealthSession.objects.get(patient__user__email="patient@clinic.test")
    assert session.provider.user.email == "np.ortiz@clinic.test" and session.status == "SCHEDULED"
    assert 0 < (session.scheduled_start - timezone.now()).total_seconds() <= 15 * 60
    entry = services.waiting_room_enter(session=session, actor=session.patient.user)
    assert entry.status == "WAITING"
    seed_demo()
    assert TelehealthSession.objects.filter(patient__user__email="patient@clinic.test").count() == 1
