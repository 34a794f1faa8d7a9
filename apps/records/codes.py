"""Code systems the records use, and the checks on their shape (not a full terminology server:
the clinic types codes it knows; we refuse what cannot be a code at all).

- ICD-10-CM (diagnoses, problems): a letter, a digit, a digit or letter, then optionally a dot
  and one to four letters or digits ("J06.9", "E11.65", "S72.001A").
- LOINC (lab tests): one to seven digits, a dash and a check digit ("2345-7"); the check digit
  is verified (mod 10, LOINC's published algorithm).
- RxNorm (medications, drug allergies): an RxCUI, one to eight digits ("860975").
- SNOMED CT (allergy substances that are not drugs, e.g. peanut 256349002): a concept id of
  six to eighteen digits whose last digit is a Verhoeff check digit."""
import re

from django.core.exceptions import ValidationError

ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC_SYSTEM = "http://loinc.org"
RXNORM_SYSTEM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED_SYSTEM = "http://snomed.info/sct"

_ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
_LOINC = re.compile(r"^([0-9]{1,7})-([0-9])$")
_RXNORM = re.compile(r"^[1-9][0-9]{0,7}$")
_SNOMED = re.compile(r"^[1-9][0-9]{5,17}$")


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


def validate_rxnorm(code):
    if code and not _RXNORM.match(code):
        raise ValidationError("Enter an RxNorm code (RxCUI) such as 860975.", code="rxnorm")


# Verhoeff's tables (dihedral group D5): SNOMED CT's check digit.
_D = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
      [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
      [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
      [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
_P = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
      [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
      [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]


def verhoeff_valid(digits):
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _D[check][_P[position % 8][int(digit)]]
    return check == 0


def validate_snomed(code):
    if code and not (_SNOMED.match(code) and verhoeff_valid(code)):
        raise ValidationError("Enter a SNOMED CT code such as 256349002.", code="snomed")
