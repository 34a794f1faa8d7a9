"""Builders for the consents tests: rows made directly (factories) and the workflow's steps taken
through the services (Flow)."""
import base64
import datetime
import struct
import zlib

import factory
from django.utils import timezone

from apps.consents import services
from apps.consents.models import ConsentTemplate, ConsultationVisitType, OperatingRoom, PreOpRequirement
from apps.scheduling.models import Visit
from tests.scheduling.factories import LocationFactory, ProviderFactory, VisitTypeFactory

SECTIONS = [
    {"title": "The procedure", "clauses": [
        {"key": "nature", "text": "I understand the nature of the procedure described in my plan."},
        {"key": "risks", "text": "I understand the risks: bleeding, infection, scarring and asymmetry."},
    ]},
    {"title": "Anaesthesia", "clauses": [{"key": "anaesthesia", "text": "I understand the anaesthesia planned for me."}]},
]
CHECKS = [
    {"key": "fasting", "question": "Can you eat on the morning of surgery?", "choices": ["Yes", "No"], "answer": "No",
     "explanation": "No food for 8 hours before surgery: an empty stomach keeps anaesthesia safe."},
]
ALL_CLAUSES = ["nature", "risks", "anaesthesia"]
RIGHT_ANSWERS = {"fasting": "No"}
LINES = [
    {"code": "15823", "description": "Upper eyelid blepharoplasty", "site": "Upper eyelids", "side": "BILATERAL",
     "estimated_fee": "3200.00"},
    {"code": "L8699", "description": "Prosthetic implant, not otherwise specified", "site": "", "side": "NA",
     "estimated_fee": "450.50"},
]


def png(width=300, height=100, ink=True):
    """A real PNG (8-bit greyscale + alpha) with a stroke when `ink`."""
    rows = []
    for y in range(height):
        row = bytearray(width * 2)
        if ink and y == height // 2:
            for x in range(10, width - 10):
                row[2 * x], row[2 * x + 1] = 0, 255
        rows.append(b"\x00" + bytes(row))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 4, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def png_data_url(**kwargs):
    return "data:image/png;base64," + base64.b64encode(png(**kwargs)).decode()


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentTemplate

    key = factory.Sequence(lambda n: f"procedure-{n}")
    kind = "PROCEDURE"
    title = "Consent to surgery"
    sections = factory.LazyFunction(lambda: [dict(s, clauses=[dict(c) for c in s["clauses"]]) for s in SECTIONS])
    checks = factory.LazyFunction(lambda: [dict(c) for c in CHECKS])
    validity_days = 90
    published_at = factory.LazyFunction(timezone.now)


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OperatingRoom

    name = factory.Sequence(lambda n: f"Theatre {n}")
    location = factory.SubFactory(LocationFactory)


def consultation_type():
    visit_type = VisitTypeFactory(name=f"Surgical consultation {VisitTypeFactory._meta.model.objects.count()}",
                                  self_bookable=False)
    ConsultationVisitType.objects.create(visit_type=visit_type)
    return visit_type


def visit(patient, provider, visit_type, *, status=Visit.Status.COMPLETED, location=None):
    """A walk-in visit made directly (the consultation a plan follows), in `status`."""
    now = timezone.now()
    return Visit.objects.create(
        patient=patient, provider=provider, visit_type=visit_type, location=location or LocationFactory(),
        mode="IN_PERSON", start=now - datetime.timedelta(hours=2), end=now - datetime.timedelta(hours=1, minutes=30),
        is_walk_in=True, status=status, completed_at=now - datetime.timedelta(hours=1) if status == "COMPLETED" else None,
    )


def verified(user):
    """The user as django-otp leaves it after their second factor (OTPMiddleware's is_verified)."""
    user.is_verified = lambda: True
    return user


class Flow:
    """The chronology for one patient, step by step through the services."""

    def __init__(self, patient, surgeon=None, template=None):
        self.patient = patient
        self.surgeon = surgeon or ProviderFactory(specialty="General surgery")
        self.surgeon_user = verified(self.surgeon.user)
        self.template = template or TemplateFactory()
        self.visit_type = consultation_type()
        self.consultation = None
        self.plan = self.consent = self.case = self.booking = None

    def consult(self, status=Visit.Status.COMPLETED):
        self.consultation = visit(self.patient, self.surgeon, self.visit_type, status=status)
        return self.consultation

    def draft(self):
        if self.consultation is None:
            self.consult()
        self.plan = services.procedure_plan_create(patient=self.patient, consultation=self.consultation,
                                                   surgeon=self.surgeon, lines=LINES, notes="Day surgery",
                                                   actor=self.surgeon_user)
        return self.plan

    def approve(self):
        if self.plan is None:
            self.draft()
        services.procedure_plan_submit(plan=self.plan, actor=self.surgeon_user)
        self.plan = services.procedure_plan_approve(plan=self.plan, actor=self.surgeon_user)
        return self.plan

    def send(self):
        if self.plan is None or not self.plan.is_approved:
            self.approve()
        self.consent = services.consent_create(patient=self.patient, template=self.template, plan=self.plan,
                                               actor=self.surgeon_user)
        return self.consent

    def sign(self, **overrides):
        if self.consent is None:
            self.send()
        kwargs = dict(consent=self.consent, actor=self.patient.user, acknowledged=ALL_CLAUSES, answers=RIGHT_ANSWERS,
                      typed_name=self.patient.legal_name, signature_png=png(), stepped_up_at=timezone.now(),
                      ip="203.0.113.7", user_agent="pytest")
        kwargs.update(overrides)
        self.consent = services.consent_sign(**kwargs)
        return self.consent

    def case_create(self):
        if self.consent is None or self.consent.status != "SIGNED":
            self.sign()
        self.case = services.surgical_case_create(plan=self.plan, consent=self.consent, anaesthesia_type="GENERAL",
                                                  actor=self.surgeon_user)
        return self.case

    def book(self, room=None, start=None, hours=2):
        if self.case is None:
            self.case_create()
        start = start or (timezone.now() + datetime.timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
        self.booking = services.theatre_book(case=self.case, room=room or RoomFactory(), start=start,
                                             end=start + datetime.timedelta(hours=hours), actor=self.surgeon_user)
        return self.booking

    def preop_done(self):
        for item in self.plan.preop_items.all():
            services.preop_item_complete(item=item, actor=self.surgeon_user)

    def start(self):
        if self.booking is None:
            self.book()
        self.preop_done()
        self.case = services.case_start(case=self.case, actor=self.surgeon_user)
        return self.case

    def refresh(self):
        for name in ("plan", "consent", "case"):
            obj = getattr(self, name)
            if obj is not None:
                obj.refresh_from_db()
        return self


def preop_catalogue():
    PreOpRequirement.objects.get_or_create(code="labs", defaults={"label": "Labs", "order": 10})
    PreOpRequirement.objects.get_or_create(code="clearance", defaults={"label": "Medical clearance", "order": 20})
    PreOpRequirement.objects.get_or_create(code="fasting", defaults={"label": "Fasting instructions", "order": 30})


__all__ = ["ALL_CLAUSES", "CHECKS", "Flow", "LINES", "RIGHT_ANSWERS", "RoomFactory", "SECTIONS",
           "TemplateFactory", "consultation_type", "png", "png_data_url", "preop_catalogue", "verified", "visit"]
