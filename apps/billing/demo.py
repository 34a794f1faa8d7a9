"""The billing app's demo records: a realistic fee schedule (2026 office visits, telehealth,
labs, the consents demo's procedures and implants), the demo visit types' codes, and for the
demo patient (patient@clinic.test) a completed visit's charges approved, invoiced and issued,
to pay at /portal/billing/ with the test card 4242 4242 4242 4242; the demo payers and the demo
patient's insurance card, checked once through the clearinghouse simulator."""
import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import User
from apps.billing import services
from apps.billing.models import Charge, Coverage, EligibilityCheck, Invoice, Payer, ServiceCode, VisitTypeCode
from apps.core import demo
from apps.patients.models import Patient
from apps.scheduling.models import Location, Provider, Visit, VisitType
from apps.scheduling.services import visit_complete

DEMO_PATIENT = "patient@clinic.test"
BILLER = "billing@clinic.test"
FEES = [
    # code, system, description, price, allowed modifiers
    ("99202", "CPT", "Office visit, new patient, straightforward", "110.00", ["25", "95"]),
    ("99203", "CPT", "Office visit, new patient, low complexity", "165.00", ["25", "95"]),
    ("99204", "CPT", "Office visit, new patient, moderate complexity", "245.00", ["25", "95"]),
    ("99212", "CPT", "Office visit, established patient, straightforward", "85.00", ["25", "95"]),
    ("99213", "CPT", "Office visit, established patient, low complexity", "125.00", ["25", "95"]),
    ("99214", "CPT", "Office visit, established patient, moderate complexity", "185.00", ["25", "95"]),
    ("99215", "CPT", "Office visit, established patient, high complexity", "250.00", ["25", "95"]),
    ("99242", "CPT", "Office consultation, straightforward", "180.00", ["95"]),
    ("99243", "CPT", "Office consultation, low complexity", "240.00", ["95"]),
    ("36415", "CPT", "Routine venipuncture", "12.00", []),
    ("85025", "CPT", "Complete blood count with differential", "28.00", []),
    ("80053", "CPT", "Comprehensive metabolic panel", "42.00", []),
    ("93000", "CPT", "Electrocardiogram, 12 leads, with interpretation", "65.00", []),
    ("90471", "CPT", "Immunization administration, one vaccine", "30.00", []),
    ("47562", "CPT", "Laparoscopic cholecystectomy", "2400.00", ["RT", "LT", "50"]),
    ("49505", "CPT", "Inguinal hernia repair, age 5 or over", "1650.00", ["RT", "LT", "50"]),
    ("29881", "CPT", "Knee arthroscopy with meniscectomy", "2100.00", ["RT", "LT"]),
    ("15823", "CPT", "Blepharoplasty, upper eyelid, with excessive skin", "3800.00", ["50", "RT", "LT"]),
    ("67900", "CPT", "Repair of brow ptosis", "2450.00", ["50", "RT", "LT"]),
    ("L8699", "HCPCS", "Prosthetic implant, not otherwise specified", "180.00", []),
    ("C1713", "HCPCS", "Anchor/screw for opposing bone-to-bone or soft tissue-to-bone", "310.00", []),
    ("C1781", "HCPCS", "Mesh (implantable)", "420.00", []),
    ("J1100", "HCPCS", "Injection, dexamethasone sodium phosphate, 1 mg", "4.50", []),
]
VISIT_TYPE_CODES = {"Follow-up visit": ["99213"], "New patient visit": ["99203"], "Video visit": ["99213"],
                    "Surgical consultation": ["99243"]}


@demo.contribute(order=45)
def seed_fee_schedule():
    """The fee schedule and the visit types' codes, before the demo's visits complete
    (scheduling, consents: their charges are priced from it)."""
    lines = []
    for code, system, description, price, modifiers in FEES:
        ServiceCode.objects.get_or_create(code=code, effective_from=datetime.date(2026, 1, 1), defaults={
            "system": system, "description": description, "price": Decimal(price), "allowed_modifiers": modifiers})
    lines.append(f"billing: fee schedule of {len(FEES)} codes")
    for name, codes in VISIT_TYPE_CODES.items():
        visit_type = VisitType.objects.filter(name=name).first()
        if visit_type is None:
            continue
        for position, code in enumerate(codes, start=1):
            VisitTypeCode.objects.get_or_create(visit_type=visit_type, code=code, defaults={"position": position})
    return lines


@demo.contribute(order=80)
def seed_billing():
    lines = []
    lines.extend(_demo_invoice())
    lines.extend(_demo_insurance())
    return lines


# Real payers' clearinghouse ids. The simulator answers by member id (apps/billing/clearinghouse/simulator.py).
PAYERS = [("Aetna", "60054"), ("UnitedHealthcare", "87726"), ("Cigna", "62308"), ("Humana", "61101"),
          ("Blue Cross Blue Shield of Texas", "84980")]
DEMO_MEMBER_ID = "W123456789"


def _demo_insurance():
    """The demo payers, and for the demo patient an Aetna PPO card (primary, self) checked once
    through the clearinghouse simulator: the portal's insurance page and the booking estimate
    show its copay ($25), deductible ($650 of $1500 left) and 20% coinsurance."""
    for name, payer_id in PAYERS:
        Payer.objects.get_or_create(payer_id=payer_id, defaults={"name": name})
    lines = [f"billing: {len(PAYERS)} payers"]
    patient = Patient.objects.filter(user__email=DEMO_PATIENT).first()
    biller = User.objects.filter(email=BILLER).first()
    if patient is None:
        return [*lines, "billing: no demo patient, no demo coverage"]
    coverage = Coverage.objects.filter(patient=patient, is_active=True, priority=Coverage.Priority.PRIMARY).first()
    if coverage is None:
        coverage = services.coverage_add(patient=patient, actor=biller, payer=Payer.objects.get(payer_id="60054"),
                                         member_id=DEMO_MEMBER_ID, group_number="GRP-100482", priority=Coverage.Priority.PRIMARY,
                                         relationship=Coverage.Relationship.SELF,
                                         effective_from=datetime.date(timezone.now().year, 1, 1))
        lines.append(f"billing: {DEMO_PATIENT} has an Aetna card, member {DEMO_MEMBER_ID}")
    # Only the built-in simulator is asked at seed time (a real clearinghouse is never called by the demo).
    if settings.BILLING_CLEARINGHOUSE == "simulator" and not EligibilityCheck.objects.filter(coverage=coverage).exists():
        check = services.eligibility_check(coverage=coverage, actor=biller)
        lines.append(f"billing: eligibility checked for the demo card ({check.get_outcome_display().lower() or check.status})")
    return lines


def _demo_invoice():
    """A completed visit of the demo patient, billed: charges approved and an invoice issued."""
    patient = Patient.objects.filter(user__email=DEMO_PATIENT).first()
    biller = User.objects.filter(email=BILLER).first()
    if patient is None or biller is None:
        return ["billing: no demo patient or billing user, no demo invoice"]
    if Invoice.objects.filter(patient=patient).exclude(status="VOID").exists():
        return [f"billing: {DEMO_PATIENT} already has an invoice"]
    visit_type = VisitType.objects.filter(name="Follow-up visit").first() or VisitType.objects.first()
    provider = Provider.objects.filter(is_active=True).first()
    location = Location.objects.first()
    if not (visit_type and provider and location):
        return ["billing: no visit type, provider or location for the demo invoice"]
    start = timezone.now() - datetime.timedelta(days=3)
    # A past walk-in visit, completed through scheduling's service: its completion makes the charges.
    visit = Visit.objects.create(patient=patient, provider=provider, visit_type=visit_type, location=location, mode="IN_PERSON",
                                 start=start, end=start + datetime.timedelta(minutes=30), is_walk_in=True, status="IN_PROGRESS")
    visit_complete(visit=visit, actor=provider.user, now=start + datetime.timedelta(minutes=25))
    for charge in Charge.objects.filter(patient=patient, status="PENDING_REVIEW"):
        services.charge_approve(charge=charge, actor=biller)
    invoice = services.invoice_create(patient=patient, actor=biller, insurance_portion="60.00")
    invoice = services.invoice_issue(invoice=invoice, actor=biller)
    return [f"billing: {DEMO_PATIENT} has invoice {invoice.display_number}, ${invoice.amount_due} due (pay with 4242 4242 4242 4242)"]


@demo.summary(order=80)
def billing_summary():
    return ["Billing: billing@clinic.test reviews charges at /staff/billing/; the demo patient pays at /portal/billing/ "
            "(test cards: 4242424242424242 ok, 4000000000000002 declined, 4000000000009995 insufficient funds)"]
