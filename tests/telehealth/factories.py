"""Builders for the telehealth tests: a VIRTUAL visit booked through scheduling's own service
(so its session comes from the real wiring), signed telehealth consents through consents'
services, and the waiting-room steps through ours."""
import datetime

from django.utils import timezone

from apps.consents import services as consent_services
from apps.scheduling.models import Mode
from apps.scheduling.services import visit_book_for_patient
from apps.telehealth import services
from apps.telehealth.models import TelehealthSession
from tests.consents.factories import ALL_CLAUSES, RIGHT_ANSWERS, TemplateFactory, png, verified
from tests.factories import StaffFactory
from tests.scheduling.factories import ProviderFactory, SlotFactory, VisitTypeFactory

GOOD_DEVICES = {"camera": True, "microphone": True, "mic_level": 0.4, "rtt_ms": 40, "download_kbps": 8000}


def virtual_visit(patient, *, minutes_ahead=10, provider=None, licensed=("NY",)):
    """A PLANNED VIRTUAL visit for `patient`, starting `minutes_ahead` from now (rounded to the
    minute), booked by the front desk."""
    provider = provider or ProviderFactory(licensed_states=list(licensed))
    visit_type = VisitTypeFactory(mode=Mode.VIRTUAL, name=f"Video visit {TelehealthSession.objects.count()}-{provider.pk.hex[:6]}")
    provider.visit_types.add(visit_type)
    start = (timezone.now() + datetime.timedelta(minutes=minutes_ahead)).replace(second=0, microsecond=0)
    slot = SlotFactory(provider=provider, mode=Mode.VIRTUAL, start=start, end=start + datetime.timedelta(minutes=30))
    desk = StaffFactory(role="front_desk")
    return visit_book_for_patient(patient=patient, slot=slot, visit_type=visit_type, actor=desk)


def session_for(patient, **kwargs):
    visit = virtual_visit(patient, **kwargs)
    return TelehealthSession.objects.select_related("provider__user", "patient").get(visit=visit)


def telehealth_template(kind="TELEHEALTH_GENERAL", jurisdiction=""):
    return TemplateFactory(kind=kind, jurisdiction=jurisdiction, key=f"{kind.lower().replace('_', '-')}-{jurisdiction.lower() or 'all'}",
                           title=f"Consent: {kind}")


def sign_consent(patient, kind="TELEHEALTH_GENERAL", jurisdiction=""):
    """A SIGNED consent of `kind` for `patient`, through consents' own services."""
    from apps.consents.models import ConsentTemplate

    template = ConsentTemplate.objects.filter(kind=kind, jurisdiction=jurisdiction).first() or telehealth_template(kind, jurisdiction)
    consent = consent_services.consent_create(patient=patient, template=template)
    return consent_services.consent_sign(
        consent=consent, actor=patient.user, acknowledged=ALL_CLAUSES, answers=RIGHT_ANSWERS,
        typed_name=patient.legal_name, signature_png=png(), stepped_up_at=timezone.now(), ip="203.0.113.7", user_agent="pytest",
    )


def waiting(session, *, state="NY", at_home=True, devices=GOOD_DEVICES):
    """The patient in the waiting room, devices checked and questions answered."""
    user = session.patient.user
    entry = services.waiting_room_enter(session=session, actor=user)
    if devices is not None:
        services.waiting_room_device_check(session=session, actor=user, data=dict(devices))
    if state is not None:
        entry = services.waiting_room_answer(session=session, actor=user, current_state=state, at_home=at_home)
    return entry


def admitted(session, *, by=None, **kwargs):
    """Consent signed, waiting, admitted by the session's provider."""
    sign_consent(session.patient)
    waiting(session, **kwargs)
    services.waiting_room_admit(session=session, actor=verified(by or session.provider.user))
    session.refresh_from_db()
    return session


def in_call(session, **kwargs):
    admitted(session, **kwargs)
    return services.session_start(session=session, actor=verified(session.provider.user))


__all__ = ["GOOD_DEVICES", "admitted", "in_call", "session_for", "sign_consent", "telehealth_template", "verified",
           "virtual_visit", "waiting"]
