"""Consent templates (versioned; a published version never changes, guarded by the model and by a
database trigger, migration 0002) and the consents given to patients (ConsentForm), with the
canonical document of exactly what was shown and answered and its SHA-256."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.consents.exceptions import TemplatePublished
from apps.consents.querysets import ConsentFormQuerySet
from apps.core.storage import PrivateFiles
from apps.core.transitions import TransitionEvent

US_STATES = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
    "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR",
    "PA", "PR", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
]


class ConsentKind(models.TextChoices):
    PROCEDURE = "PROCEDURE", "Procedure"
    TELEHEALTH_GENERAL = "TELEHEALTH_GENERAL", "Telehealth (general)"
    HIPAA = "HIPAA", "HIPAA notice of privacy practices"
    RECORDING = "RECORDING", "Photo, video and recording"
    STATE_SPECIFIC = "STATE_SPECIFIC", "State-specific"
    FINANCIAL = "FINANCIAL", "Financial responsibility"


class ConsentTemplate(models.Model):
    """One version of a consent text. `sections`: [{"title", "clauses": [{"key", "text"}]}],
    every clause acknowledged by the patient; `checks`: [{"key", "question", "choices": [...],
    "answer", "explanation"}], every one answered correctly before signing
    (apps/consents/content.py validates both). Editable until published; "new version" copies
    it into the next unpublished version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.SlugField(max_length=60, help_text="The template's family: every version shares it.")
    version = models.PositiveIntegerField(default=1)
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    jurisdiction = models.CharField(max_length=2, blank=True, choices=[(s, s) for s in US_STATES],
                                    help_text="A US state, or empty for every state.")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, max_length=2000)
    sections = models.JSONField(default=list)
    checks = models.JSONField(default=list, blank=True)
    validity_days = models.PositiveIntegerField(default=365, help_text="A signed consent expires this many days later.")
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="consent_template_key_version_uniq"),
            models.CheckConstraint(condition=Q(validity_days__gte=1), name="consent_template_validity_positive"),
            models.CheckConstraint(condition=Q(version__gte=1), name="consent_template_version_positive"),
            models.CheckConstraint(condition=~Q(kind="STATE_SPECIFIC") | ~Q(jurisdiction=""),
                                   name="consent_template_state_has_jurisdiction"),
            models.CheckConstraint(condition=Q(published_by__isnull=True) | Q(published_at__isnull=False),
                                   name="consent_template_published_has_time"),
        ]

    def __str__(self):
        return f"{self.title} v{self.version}{'' if self.is_published else ' (draft)'}"

    @property
    def is_published(self):
        return self.published_at is not None

    def clause_keys(self):
        return [clause["key"] for section in self.sections for clause in section.get("clauses", [])]

    def check_keys(self):
        return [check["key"] for check in self.checks]

    def save(self, *args, **kwargs):
        # The model's guard (the database's is the trigger of migration 0002): a row published
        # in the database is never saved again.
        if self.pk and not self._state.adding and type(self).objects.filter(pk=self.pk, published_at__isnull=False).exists():
            raise TemplatePublished(extra={"template_id": str(self.pk)})
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if type(self).objects.filter(pk=self.pk, published_at__isnull=False).exists():
            raise TemplatePublished(extra={"template_id": str(self.pk)})
        return super().delete(*args, **kwargs)


class ConsentForm(models.Model):
    """A consent given to one patient, from one published template version. A PROCEDURE
    consent names the plan and the consultation it follows (a check constraint: it cannot
    exist without both)."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "To sign"
        SIGNED = "SIGNED", "Signed"
        DECLINED = "DECLINED", "Declined"
        EXPIRED = "EXPIRED", "Expired"
        REVOKED = "REVOKED", "Revoked"

    class SignatureKind(models.TextChoices):
        DRAWN = "DRAWN", "Drawn"
        TYPED = "TYPED", "Typed"

    S = Status
    TRANSITIONS = {
        S.PENDING: {S.SIGNED, S.DECLINED},
        S.SIGNED: {S.EXPIRED, S.REVOKED},
    }
    EVENT_MODEL = "consents.ConsentEvent"
    # Rows that a dependent action may still rely on (one per PROCEDURE plan, DB-enforced).
    ACTIVE_STATUSES = [S.PENDING, S.SIGNED]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    template = models.ForeignKey(ConsentTemplate, on_delete=models.PROTECT, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices, help_text="The template's kind, copied.")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey("consents.ProcedurePlan", null=True, blank=True, on_delete=models.PROTECT, related_name="consents")
    consultation = models.ForeignKey("scheduling.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # What the patient saw of the plan (its lines and fees), taken when the consent was sent.
    plan_snapshot = models.JSONField(default=dict, blank=True)
    # Progress, saved as the patient goes: {"acknowledged": [clause keys], "answers": {check key: choice}}.
    progress = models.JSONField(default=dict, blank=True)
    progress_saved_at = models.DateTimeField(null=True, blank=True)
    # The signer as they were at signing (legal name, date of birth, MRN): the document's copy.
    signer_snapshot = models.JSONField(default=dict, blank=True, editable=False)

    sent_at = models.DateTimeField(default=timezone.now)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The two reminders of an unsigned consent: REMIND_AFTER its sending, and before the plan's
    # planned surgery date (the date it was sent for: a moved date is a new reminder point).
    reminded_at = models.DateTimeField(null=True, blank=True)
    reminded_before_date = models.DateField(null=True, blank=True, editable=False)

    signed_at = models.DateTimeField(null=True, blank=True)
    signed_ip = models.GenericIPAddressField(null=True, blank=True)
    signed_user_agent = models.CharField(max_length=500, blank=True)
    typed_name = models.CharField(max_length=300, blank=True)
    signature_kind = models.CharField(max_length=5, choices=SignatureKind.choices, blank=True)
    signature_image = models.BinaryField(null=True, blank=True, editable=False)
    typed_signature = models.CharField(max_length=200, blank=True)
    signature_sha256 = models.CharField(max_length=64, blank=True)
    # The canonical document (apps/consents/documents.py) and its SHA-256, fixed at signing.
    document = models.TextField(blank=True, editable=False)
    document_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The PDF given to the patient (apps/consents/services/pdf.py), rendered once after signing,
    # kept in the private storage; its SHA-256 tells an uploaded copy from an altered one.
    pdf = models.FileField(storage=PrivateFiles("consents"), max_length=200, blank=True, editable=False)
    pdf_sha256 = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    pdf_rendered_at = models.DateTimeField(null=True, blank=True, editable=False)

    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True, max_length=2000)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoke_reason = models.TextField(blank=True, max_length=2000)
    expired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConsentFormQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "consent"
        permissions = [
            ("send_consentform", "Can create and send consents to patients"),
            ("revoke_consentform", "Can revoke a signed consent on a patient's behalf"),
            ("verify_consentform", "Can verify consents"),
        ]
        constraints = [
            # The chronology's own guarantee: a procedure consent follows a plan and a consultation.
            models.CheckConstraint(condition=~Q(kind="PROCEDURE") | Q(plan__isnull=False, consultation__isnull=False),
                                   name="consent_procedure_has_plan_and_consultation"),
            # A signed consent (and what it became) carries its signature, its document and hash.
            models.CheckConstraint(
                condition=~Q(status__in=["SIGNED", "EXPIRED", "REVOKED"])
                | (Q(signed_at__isnull=False, expires_at__isnull=False, signature_kind__in=["DRAWN", "TYPED"])
                   & ~Q(document="") & ~Q(typed_name="") & Q(document_sha256__regex=r"^[0-9a-f]{64}$")),
                name="consent_signed_has_document",
            ),
            models.CheckConstraint(condition=~Q(status="REVOKED") | (Q(revoked_at__isnull=False) & ~Q(revoke_reason="")),
                                   name="consent_revoked_has_reason"),
            # One consent at a time per plan that can still be relied on.
            models.UniqueConstraint(fields=["plan"], condition=Q(kind="PROCEDURE", status__in=["PENDING", "SIGNED"]),
                                    name="consent_one_active_per_plan"),
        ]
        indexes = [
            models.Index(fields=["patient", "status"], name="consent_patient_status_idx"),
            models.Index(fields=["status", "expires_at"], name="consent_status_expiry_idx"),
        ]

    def __str__(self):
        return f"Consent {self.id} ({self.kind}, {self.status})"

    def is_expired(self, now=None):
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def acknowledged(self):
        return list(self.progress.get("acknowledged", []))

    @property
    def answers(self):
        return dict(self.progress.get("answers", {}))


class ConsentEvent(TransitionEvent):
    SUBJECT_FIELD = "consent"

    consent = models.ForeignKey(ConsentForm, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass
