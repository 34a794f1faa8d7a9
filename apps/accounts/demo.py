"""The accounts app's demo records: one user of each staff role, sharing the demo
authenticator key (apps/core/demo.py)."""
from allauth.account.models import EmailAddress
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User
from apps.accounts.roles import BILLING, CLINIC_ADMIN, FRONT_DESK, NURSE, STAFF_ROLES, ensure_roles
from apps.accounts.services import staff_user_create
from apps.core import demo
from apps.core.demo import DEMO_PASSWORD, DEMO_TOTP_KEY_HEX

STAFF = [
    ("admin@clinic.test", "Alex Admin", CLINIC_ADMIN),
    ("frontdesk@clinic.test", "Fran Desk", FRONT_DESK),
    ("nurse@clinic.test", "Nia Nurse", NURSE),
    ("billing@clinic.test", "Bo Billing", BILLING),
]


def demo_staff_user(email, name, role):
    """A demo staff user with the shared authenticator (created once)."""
    assert role in STAFF_ROLES
    user = User.objects.filter(email=email).first()
    if user is None:
        user = staff_user_create(email=email, password=DEMO_PASSWORD, full_name=name, role=role)
        if role == CLINIC_ADMIN:
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
    TOTPDevice.objects.get_or_create(user=user, name="Demo authenticator", defaults={"key": DEMO_TOTP_KEY_HEX, "confirmed": True})
    return user


def verified_login(*, email, full_name, phone=None):
    """A demo portal login with its email (and sign-in mobile number, if given) already
    verified, so the phone app can sign in by an emailed or a texted code."""
    user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=full_name,
                                    phone=phone, phone_verified=bool(phone))
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


@demo.contribute(order=10)
def seed_staff():
    ensure_roles()
    out = []
    for email, name, role in STAFF:
        demo_staff_user(email, name, role)
        out.append(f"staff: {email} ({role})")
    return out


@demo.summary(order=20)
def staff_summary():
    return [f"Staff: {', '.join(email for email, _, _ in STAFF)}"]
