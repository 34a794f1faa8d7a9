"""Chainable filters over patients. The models and the selectors both use these, so they live
below both (models.py <- querysets.py -> selectors.py, no loop)."""
import re

from django.db import models
from django.db.models import Q

_MRN = re.compile(r"^\d{8}$")


def patient_search_filter(q):
    """Name (any word, prefix), MRN (exact) or phone (digits) as one condition."""
    q = (q or "").strip()
    if not q:
        return Q()
    if _MRN.match(q):
        return Q(mrn=q)
    digits = re.sub(r"\D", "", q)
    if len(digits) >= 7 and len(digits) >= len(q.replace(" ", "")) - 3:
        return Q(phone__endswith=digits[-10:])
    words = [w for w in re.split(r"[\s,]+", q) if w]
    condition = Q()
    for word in words:
        condition &= (
            Q(last_name__istartswith=word) | Q(first_name__istartswith=word) | Q(preferred_name__istartswith=word)
        )
    return condition


def phone_filter(phone):
    """Patients whose phone ends with the last ten digits typed; nobody when none were."""
    digits = re.sub(r"\D", "", phone)
    return Q(phone__endswith=digits[-10:]) if digits else Q(pk__in=[])


class PatientQuerySet(models.QuerySet):
    def active(self):
        return self.filter(merged_into__isnull=True)

    def search(self, q):
        """Name (any word, prefix), MRN (exact) or phone (digits)."""
        return self.filter(patient_search_filter(q))

    def for_rows(self):
        """With `has_portal_login` as a column, for lists read as rows (values())."""
        return self.annotate(
            has_portal_login=models.ExpressionWrapper(models.Q(user__isnull=False), output_field=models.BooleanField())
        )
