"""The consents app's demo records: consultation visit types, the pre-op catalogue, two operating
rooms, published consent templates of every kind, and two demo patients mid-workflow, moved
there through the clinic's own services:

- James Okafor (patient2@clinic.test): consultation completed, plan approved by Dr. Lee, the
  procedure consent sent: sign it on a phone at /portal/consents/, then watch /portal/timeline/.
- Robert Chen (no login): plan submitted, waiting in Dr. Lee's approval queue.
- Tom Berg (no login): consent signed at the clinic (typed signature), surgical case created and
  booked in Theatre 1 ten days ahead, labs done; the rest of the pre-op checklist is open."""
import datetime

from django.utils import timezone

from apps.accounts.models import User
from apps.consents import services
from apps.consents.models import ConsentTemplate, ConsultationVisitType, OperatingRoom, PreOpRequirement, ProcedurePlan
from apps.core import demo
from apps.patients.models import Patient
from apps.scheduling import services as scheduling
from apps.scheduling.demo import DEMO_LOCATION
from apps.scheduling.models import Location, Provider, VisitType

CONSULTATION_TYPES = ["Surgical consultation"]
SURGEON_EMAIL = "dr.lee@clinic.test"
ROOMS = ["Theatre 1", "Theatre 2 (minor procedures)"]
PREOP = [
    # code, label, instructions, required
    ("labs", "Labs", "Blood count, clotting screen and metabolic panel within 30 days of surgery.", True),
    ("clearance", "Medical clearance", "A letter from your primary care clinician that you are fit for surgery.", True),
    ("fasting", "Fasting instructions", "No food for 8 hours and no clear fluids for 2 hours before surgery.", True),
    ("escort", "Escort home arranged", "An adult to take you home and stay with you for 24 hours.", False),
]


def _section(title, *clauses):
    return {"title": title, "clauses": [{"key": key, "text": text} for key, text in clauses]}


def _check(key, question, choices, answer, explanation):
    return {"key": key, "question": question, "choices": choices, "answer": answer, "explanation": explanation}


TEMPLATES = [
    {
        "key": "procedure-surgery", "kind": "PROCEDURE", "title": "Consent to surgery and anaesthesia", "validity_days": 90,
        "summary": "Please read each part, tick that you understand it, answer the questions, then sign.",
        "sections": [
            _section("Your procedure",
                     ("nature", "I have been told what the procedure in my plan involves, why it is recommended and what result "
                                "I can reasonably expect."),
                     ("alternatives", "I have been told about other options, including not having the procedure."),
                     ("surgeon", "I understand that my surgeon leads the procedure and may be assisted by other qualified staff.")),
            _section("Risks",
                     ("common-risks", "I understand the common risks: pain, swelling, bruising, bleeding, infection and scarring."),
                     ("serious-risks", "I understand the rare but serious risks, including blood clots, nerve injury, a reaction "
                                       "to medicines and the need for further surgery."),
                     ("no-guarantee", "I understand that no guarantee has been made about the result.")),
            _section("Anaesthesia",
                     ("anaesthesia", "I understand the anaesthesia planned for me and its risks, and that the anaesthetist may "
                                     "change the plan for my safety.")),
            _section("Photographs and tissue",
                     ("photos", "I agree that clinical photographs may be taken for my medical record."),
                     ("tissue", "I agree that any tissue removed may be examined and then disposed of respectfully.")),
        ],
        "checks": [
            _check("fasting", "May you eat breakfast on the morning of your surgery?", ["Yes", "No"], "No",
                   "No food for 8 hours before surgery: an empty stomach keeps anaesthesia safe."),
            _check("withdraw", "Can you change your mind after signing this form?",
                   ["No, signing is final", "Yes, at any time before the procedure"], "Yes, at any time before the procedure",
                   "You may withdraw your consent at any time before the procedure starts."),
        ],
    },
    {
        "key": "telehealth-general", "kind": "TELEHEALTH_GENERAL", "title": "Consent to telehealth visits", "validity_days": 365,
        "sections": [_section("Video visits",
                              ("what", "I understand a telehealth visit uses video and audio instead of an in-person visit."),
                              ("limits", "I understand a clinician may not be able to examine me fully and may ask me to come in."),
                              ("privacy", "I will join from a private place; the clinic does not record visits without my consent."))],
        "checks": [_check("emergency", "In an emergency during a video visit, what should you do?",
                          ["Wait for the clinician", "Call 911"], "Call 911", "Telehealth is not for emergencies: call 911.")],
    },
    {
        "key": "hipaa-notice", "kind": "HIPAA", "title": "Acknowledgement of the Notice of Privacy Practices", "validity_days": 1095,
        "sections": [_section("Your privacy",
                              ("notice", "I have received the clinic's Notice of Privacy Practices."),
                              ("uses", "I understand how my health information may be used for treatment, payment and operations."),
                              ("rights", "I understand my right to see, copy and ask to correct my health record."))],
        "checks": [],
    },
    {
        "key": "recording", "kind": "RECORDING", "title": "Consent to photographs and video recording", "validity_days": 365,
        "sections": [_section("Recordings",
                              ("clinical", "I agree to clinical photographs and video for my medical record."),
                              ("teaching", "I understand that any use for teaching needs my separate written consent."),
                              ("withdraw", "I may withdraw this consent for future recordings at any time."))],
        "checks": [_check("teaching-use", "May the clinic show your photographs in a lecture because of this form?",
                          ["Yes", "No"], "No", "Teaching use needs a separate, specific consent from you.")],
    },
    {
        "key": "ny-surgery-disclosure", "kind": "STATE_SPECIFIC", "jurisdiction": "NY",
        "title": "New York office-based surgery disclosure", "validity_days": 365,
        "sections": [_section("Office-based surgery in New York",
                              ("accreditation", "I have been told the clinic's office-based surgery setting is accredited as "
                                                "New York Public Health Law requires."),
                              ("transfer", "I understand how I would be transferred to a hospital if needed."))],
        "checks": [],
    },
    {
        "key": "financial-responsibility", "kind": "FINANCIAL", "title": "Financial responsibility agreement", "validity_days": 365,
        "sections": [_section("Fees and payment",
                              ("quote", "I have received the estimated fees for my procedure and understand they are an estimate."),
                              ("deposit", "I understand a deposit may be due before surgery is scheduled."),
                              ("insurance", "I understand that cosmetic procedures are usually not covered by insurance."))],
        "checks": [_check("estimate", "Is the quoted fee a final price?", ["Yes", "No, it is an estimate"],
                          "No, it is an estimate", "The quote is an estimate: the final bill follows what was done.")],
    },
]

DEMO_LINES = [
    {"code": "15823", "description": "Upper eyelid blepharoplasty", "site": "Upper eyelids", "side": "BILATERAL",
     "estimated_fee": "3800.00"},
    {"code": "67900", "description": "Brow ptosis repair", "site": "Forehead", "side": "BILATERAL", "estimated_fee": "2450.00"},
]


@demo.contribute(order=50)
def seed_consents():
    """Consultation types, pre-op catalogue, rooms and published templates (idempotent)."""
    out = []
    for name in CONSULTATION_TYPES:
        visit_type = VisitType.objects.filter(name=name).first()
        if visit_type is not None:
            ConsultationVisitType.objects.get_or_create(visit_type=visit_type)
    for order, (code, label, instructions, required) in enumerate(PREOP, 1):
        PreOpRequirement.objects.get_or_create(code=code, defaults={"label": label, "instructions": instructions,
                                                                    "is_required": required, "order": order * 10})
    location = Location.objects.filter(name=DEMO_LOCATION).first()
    for name in ROOMS:
        OperatingRoom.objects.get_or_create(name=name, defaults={"location": location})
    for spec in TEMPLATES:
        if ConsentTemplate.objects.filter(key=spec["key"]).exists():
            continue
        template = ConsentTemplate.objects.create(version=1, **spec)
        services.consent_template_publish(template=template)
        out.append(f"consent template: {template.title} ({template.get_kind_display()})")
    return out


def _completed_consultation(patient, surgeon, desk, location):
    visit_type = VisitType.objects.get(name=CONSULTATION_TYPES[0])
    outcome = scheduling.visit_request_create_walk_in(patient=patient, location=location, reason="Surgical consultation",
                                                      visit_type=visit_type, actor=desk)
    visit = scheduling.visit_request_assign_immediate(request=outcome.request, provider=surgeon, actor=desk,
                                                      visit_type=visit_type)
    visit = scheduling.visit_start(visit=visit, actor=surgeon.user)
    return scheduling.visit_complete(visit=visit, actor=surgeon.user)


@demo.contribute(order=60)
def seed_workflow_patients():
    """Two patients part-way through the workflow (skipped when they already have a plan)."""
    surgeon = Provider.objects.filter(user__email=SURGEON_EMAIL).select_related("user").first()
    desk = User.objects.filter(email="frontdesk@clinic.test").first()
    location = Location.objects.filter(name=DEMO_LOCATION).first()
    template = ConsentTemplate.objects.filter(key="procedure-surgery", published_at__isnull=False).order_by("-version").first()
    if None in (surgeon, desk, location, template) or not ConsultationVisitType.objects.exists():
        return []
    # The demo surgeon's second factor: their demo authenticator (apps/core/demo.py) stands for
    # the verified session the approval needs.
    surgeon.user.is_verified = lambda: True
    out = []
    james = Patient.objects.filter(user__email="patient2@clinic.test").first()
    if james is not None and not ProcedurePlan.objects.filter(patient=james).exists():
        plan = services.procedure_plan_create(patient=james, consultation=_completed_consultation(james, surgeon, desk, location),
                                              surgeon=surgeon, lines=DEMO_LINES, notes="Day case under general anaesthesia.",
                                              actor=surgeon.user)
        services.procedure_plan_submit(plan=plan, actor=surgeon.user)
        services.procedure_plan_approve(plan=plan, actor=surgeon.user)
        services.procedure_plan_set_planned_date(plan=plan, planned_date=timezone.localdate() + datetime.timedelta(days=14),
                                                 actor=surgeon.user)
        services.consent_create(patient=james, template=template, plan=plan, actor=desk)
        out.append("workflow: James Okafor has a consent to sign (login patient2@clinic.test, /portal/consents/)")
    robert = Patient.objects.filter(first_name="Robert", last_name="Chen").first()
    if robert is not None and not ProcedurePlan.objects.filter(patient=robert).exists():
        plan = services.procedure_plan_create(patient=robert, consultation=_completed_consultation(robert, surgeon, desk, location),
                                              surgeon=surgeon, lines=DEMO_LINES[:1], actor=desk)
        services.procedure_plan_submit(plan=plan, actor=desk)
        out.append("workflow: Robert Chen's plan waits for Dr. Daniel Lee's approval")
    tom = Patient.objects.filter(first_name="Tom", last_name="Berg").first()
    room = OperatingRoom.objects.filter(name=ROOMS[0]).first()
    if tom is not None and room is not None and not ProcedurePlan.objects.filter(patient=tom).exists():
        out.append(_booked_case(tom, surgeon, desk, location, template, room))
    return out


def _booked_case(patient, surgeon, desk, location, template, room):
    """A plan approved, its consent signed at the clinic on a tablet (a typed signature, the
    identity checked at the desk), the case created and booked, the labs done."""
    plan = services.procedure_plan_create(patient=patient, consultation=_completed_consultation(patient, surgeon, desk, location),
                                          surgeon=surgeon, lines=DEMO_LINES, actor=surgeon.user)
    services.procedure_plan_submit(plan=plan, actor=surgeon.user)
    services.procedure_plan_approve(plan=plan, actor=surgeon.user)
    consent = services.consent_create(patient=patient, template=template, plan=plan, actor=desk)
    services.consent_sign(
        consent=consent, actor=desk, acknowledged=template.clause_keys(),
        answers={check["key"]: check["answer"] for check in template.checks}, typed_name=patient.legal_name,
        typed_signature=patient.legal_name, stepped_up_at=timezone.now(), ip="127.0.0.1", user_agent="Clinic tablet (demo)",
    )
    consent.refresh_from_db()
    case = services.surgical_case_create(plan=plan, consent=consent, anaesthesia_type="GENERAL", actor=surgeon.user)
    start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0) + datetime.timedelta(days=10)
    services.theatre_book(case=case, room=room, start=start, end=start + datetime.timedelta(hours=2), actor=desk)
    labs = plan.preop_items.filter(code="labs").first()
    if labs is not None:
        services.preop_item_complete(item=labs, actor=surgeon.user, note="Within range")
    return f"workflow: Tom Berg's surgery is booked in {room.name} on {start:%a %d %b}; pre-op clearance and fasting open"


@demo.summary(order=50)
def consents_summary():
    return ["Consents: patient2@clinic.test has a procedure consent to sign at /portal/consents/ "
            "(timeline at /portal/timeline/); Robert Chen's plan waits in Dr. Lee's approval queue; Tom Berg's surgery "
            "is booked (/staff/surgery/theatre/) with pre-op items open"]
