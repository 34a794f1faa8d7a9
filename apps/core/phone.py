"""E.164 phone numbers: parse what people type, store +15555550123. Used by accounts (sign-in
numbers) and patients (contact numbers)."""
import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

DEFAULT_REGION = getattr(settings, "PHONE_DEFAULT_REGION", "US")


def normalize_phone(value, *, region=DEFAULT_REGION):
    """Return the E.164 form of `value` or raise ValidationError. Empty stays empty."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValidationError("Enter a valid phone number, for example +1 212 555 0123.", code="invalid_phone")
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError("Enter a valid phone number, for example +1 212 555 0123.", code="invalid_phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def validate_e164(value):
    if value and normalize_phone(value) != value:
        raise ValidationError("Phone numbers are stored in E.164 form, for example +15555550123.", code="not_e164")
