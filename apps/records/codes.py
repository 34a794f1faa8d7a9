"""Code systems the records use, and the checks on their shape (not a full terminology server:
the clinic types codes it knows; we refuse what cannot be a code at all).

- ICD-10-CM (diagnoses, problems): a letter, a digit, a digit or letter, then optionally a dot
  and one to four letters or digits ("J06.9", "E11.65", "S72.001A").
- LOINC (lab tests): one to seven digits, a dash and a check digit ("2345-7"); the check digit
  is verified (mod 10, LOINC's published algorithm)."""
import re

from django.core.exceptions import ValidationError

ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC_SYSTEM = "http://loinc.org"

_ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
_LOINC = re.compile(r"^([0-9]{1,7})-([0-9])$")


def normalize_icd10(code):
    return (code or "").strip().upper()


def validate_icd10(code):
    if not _ICD10.match(normalize_icd10(code)):
        raise ValidationError("Enter an ICD-10-CM code such as J06.9.", code="icd10")


def loinc_check_digit(number):
    """LOINC's mod-10 check digit of the part before the dash."""
    digits = [int(d) for d in number.rjust(7, "0")]
    total = 0
    # From the right, double every other digit starting with the rightmost.
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:
            doubled = digit * 2
            total += doubled // 10 + doubled % 10
        else:
            total += digit
    return (10 - total % 10) % 10


def validate_loinc(code):
    match = _LOINC.match((code or "").strip())
    if not match or loinc_check_digit(match.group(1)) != int(match.group(2)):
        raise ValidationError("Enter a LOINC code such as 2345-7.", code="loinc")


def validate_icd10_list(codes):
    if not isinstance(codes, list) or len(codes) > 12:
        raise ValidationError("Give up to 12 ICD-10-CM codes.", code="icd10")
    for code in codes:
        if not isinstance(code, str):
            raise ValidationError("Give ICD-10-CM codes as text.", code="icd10")
        validate_icd10(code)
