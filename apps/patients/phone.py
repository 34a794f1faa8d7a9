"""E.164 phone numbers: core's one parser (apps/core/phone.py), under the name patients uses."""
from apps.core.phone import DEFAULT_REGION, normalize_phone, validate_e164

__all__ = ["DEFAULT_REGION", "normalize_phone", "validate_e164"]
