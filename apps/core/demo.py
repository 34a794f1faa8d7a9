"""Demo data for a newcomer: one location, a user of each staff role, patients with logins.
Idempotent: running it again changes nothing that exists."""
import datetime

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User
from apps.accounts.roles import CLINIC_ADMIN, STAFF_ROLES, ensure_roles

DEMO_PASSWORD = "clinic-demo-2026"
# RFC 6238's test key: every demo staff user shares it, so one authenticator entry (or
# `manage.py demo_totp`) gives the code. Base32: GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
DEMO_TOTP_KEY_HEX = "3132333435363738393031323334353637383930"
DEMO_TOTP_BASE32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

STAFF = [
    ("admin@clinic.test", "Alex Admin", CLINIC_ADMIN),
    ("frontdesk@clinic.test", "Fran Desk", "front_desk"),
    ("nurse@clinic.test", "Nia Nurse", "nurse"),
    ("provider@clinic.test", "Dr. Priya Shah", "provider"),
    ("billing@clinic.test", "Bo Billing", "billing"),
]

PATIENTS = [
    # email (portal login) or None, first, last, dob, phone
    ("patient@clinic.test", "Maria", "Garcia", datetime.date(1985, 4, 12), "+12125550101"),
    ("patient2@clinic.test", "James", "Okafor", datetime.date(1972, 11, 3), "+12125550102"),
    ("patient3@clinic.test", "Lena", "Novak", datetime.date(1999, 7, 21), "+12125550103"),
    (None, "Robert", "Chen", datetime.date(1958, 2, 28), "+12125550104"),
    (None, "Aisha", "Rahman", datetime.date(2010, 9, 9), "+12125550105"),
    (None, "Tom", "Berg", datetime.date(1990, 1, 15), "+12125550106"),
]


def _verified_email(user):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})


@transaction.atomic
def seed_demo():
    from apps.accounts.services import staff_user_create
    from apps.patients.models import Patient
    from apps.patients.services import patient_create
    from apps.scheduling.models import Location

    ensure_roles()
    out = []
    location, _ = Location.objects.get_or_create(
        name="Riverside Clinic — Main Street",
        defaults={"timezone": "America/New_York", "address": "100 Main Street, Springfield", "phone": "+12125550100"},
    )
    out.append(f"location: {location.name} ({location.timezone})")

    for email, name, role in STAFF:
        user = User.objects.filter(email=email).first()
        if user is None:
            assert role in STAFF_ROLES
            user = staff_user_create(email=email, password=DEMO_PASSWORD, full_name=name, role=role)
            if role == CLINIC_ADMIN:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
        TOTPDevice.objects.get_or_create(user=user, name="Demo authenticator", defaults={"key": DEMO_TOTP_KEY_HEX, "confirmed": True})
        out.append(f"staff: {email} ({role})")

    for email, first, last, dob, phone in PATIENTS:
        if Patient.objects.filter(first_name=first, last_name=last, date_of_birth=dob).exists():
            continue
        user = None
        if email:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=f"{first} {last}")
            _verified_email(user)
        patient_create(
            data={"first_name": first, "last_name": last, "date_of_birth": dob, "phone": phone, "email": email or ""},
            user=user,
            flag_duplicates=False,
        )
        out.append(f"patient: {first} {last}" + (f" (login {email})" if email else ""))
    return out
