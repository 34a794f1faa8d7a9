import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as dj_timezone

from apps.core.timezones import TIMEZONE_CHOICES
from apps.core.transitions import TransitionEvent
from apps.patients.phone import validate_e164
from apps.patients.querysets import PatientQuerySet


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    INTERSEX = "X", "Intersex"
    UNKNOWN = "U", "Unknown"


class Language(models.TextChoices):
    EN = "en", "English"
    ES = "es", "Spanish"
    FR = "fr", "French"
    ZH = "zh", "Chinese"
    VI = "vi", "Vietnamese"
    AR = "ar", "Arabic"


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mrn = models.CharField("MRN", max_length=16, unique=True, editable=False)
    first_name = models.CharField("legal first name", max_length=100)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField("legal last name", max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex_at_birth = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    gender_identity = models.CharField(max_length=100, blank=True)

    email = models.EmailField(blank=True)
    phone = models.CharField("mobile phone", max_length=20, blank=True, validators=[validate_e164], help_text="E.164, e.g. +15555550123")
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")

    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_relationship = models.CharField(max_length=100, blank=True)
    emergency_contact_phone = models.CharField(max_length=20, blank=True, validators=[validate_e164])

    preferred_language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, default=settings.DEFAULT_PATIENT_TIMEZONE)
    sms_opt_in = models.BooleanField("SMS messages", default=True)
    email_opt_in = models.BooleanField("email messages", default=True)
    quiet_hours_start = models.TimeField(null=True, blank=True, help_text="No non-urgent messages from this time...")
    quiet_hours_end = models.TimeField(null=True, blank=True, help_text="...until this time (patient's timezone).")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="patient")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "date_of_birth"]
        indexes = [
            models.Index(Lower("last_name"), Lower("first_name"), name="patient_name_idx"),
            models.Index(fields=["date_of_birth"], name="patient_dob_idx"),
            models.Index(fields=["phone"], name="patient_phone_idx"),
            models.Index(Lower("email"), name="patient_email_idx"),
            # The list's order (selectors.patient_list): a page is an index range scan.
            models.Index(
                fields=["last_name", "first_name", "date_of_birth", "id"],
                condition=models.Q(merged_into__isnull=True),
                name="patient_list_order_idx",
            ),
        ]

    def __str__(self):
        return f"{self.display_name} ({self.mrn})"

    @property
    def display_name(self):
        first = self.preferred_name or self.first_name
        return f"{first} {self.last_name}"

    @property
    def has_portal_login(self):
        return self.user_id is not None

    @property
    def legal_name(self):
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)


class MrnSequence(models.Model):
    """One row; the next MRN number. Locked while a patient is created, so MRNs are unique and
    never reused (a rolled-back creation burns nothing: the increment rolls back with it)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    next_value = models.PositiveBigIntegerField(default=1000001)


class Registration(models.Model):
    """What a person typed at self-registration, kept until their email is verified and their
    patient record is created or linked (or staff decide, when it looked like someone else)."""

    class Status(models.TextChoices):
        PENDING_VERIFICATION = "pending_verification", "Waiting for email verification"
        IN_REVIEW = "in_review", "Waiting for staff review"
        COMPLETED = "completed", "Completed"

    # Moved by services.registration_complete and duplicate_review_resolve through
    # core.transitions. The audit log records what happens to the patient record (created,
    # login linked), not the registration's own steps, so no audit entry per move here.
    TRANSITIONS = {
        Status.PENDING_VERIFICATION: {Status.IN_REVIEW, Status.COMPLETED},
        Status.IN_REVIEW: {Status.COMPLETED},
    }
    EVENT_MODEL = "patients.RegistrationEvent"
    AUDIT_TRANSITIONS = False

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registration")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=20, validators=[validate_e164])
    terms_version = models.CharField(max_length=20)
    terms_accepted_at = models.DateTimeField()
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.PENDING_VERIFICATION)
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=dj_timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Registration of user {self.user_id} ({self.status})"


class DuplicateGroup(models.Model):
    """Patient records that may be one person, gathered as signups match them. A newcomer (a
    self-registration or a record registered by staff) that matches records joins their group,
    folding together the groups it bridges, and gets ONE DuplicateReview naming its strongest
    match; the records are members, one row each. So rows and review work grow with people,
    never with pairs (3,741 similar signups once made 72,924 pair rows). Staff review a group
    (staff_duplicate_group) and decide each newcomer's review in it. A group stays as the
    history of its decisions; it has open work while one of its reviews is OPEN."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=dj_timezone.now)
    # The last time a newcomer joined: the review list shows the latest groups first.
    flagged_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"Possible duplicates {self.pk}"


class DuplicateGroupMember(models.Model):
    """A patient record in a duplicate group: in one group at most (the database says so)."""

    group = models.ForeignKey(DuplicateGroup, on_delete=models.CASCADE, related_name="members")
    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="duplicate_membership")
    joined_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ["joined_at", "id"]
        indexes = [models.Index(fields=["group", "joined_at"], name="dup_member_group_idx")]

    def __str__(self):
        return f"{self.patient_id} in {self.group_id}"


class DuplicateReview(models.Model):
    """A possible duplicate for staff to decide: either a self-registration that matched an
    existing patient, or a patient registered by staff that matched another. One per
    newcomer (a partial unique constraint: one OPEN review per registration and per record),
    in the newcomer's DuplicateGroup; `existing` is its strongest match, and staff may pick
    another member of the group when they decide."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        LINKED = "linked", "Linked to the existing record"
        CREATED_NEW = "created_new", "Different person: new record created"
        MERGED = "merged", "Records merged"
        DISMISSED = "dismissed", "Different people"

    TRANSITIONS = {
        Status.OPEN: {Status.LINKED, Status.CREATED_NEW, Status.MERGED, Status.DISMISSED},
    }
    EVENT_MODEL = "patients.DuplicateReviewEvent"
    # services.duplicate_review_resolve writes the one audit entry of a decision, on the
    # existing patient's record with the resolution; the listener's entry would repeat it.
    AUDIT_TRANSITIONS = False

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    group = models.ForeignKey(DuplicateGroup, on_delete=models.PROTECT, related_name="reviews")
    existing = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    registration = models.ForeignKey(Registration, null=True, blank=True, on_delete=models.PROTECT, related_name="reviews")
    other = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(default=dj_timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(registration__isnull=False) | models.Q(other__isnull=False),
                name="duplicate_review_has_subject",
            ),
            models.UniqueConstraint(fields=["registration"], condition=models.Q(status="open", registration__isnull=False),
                                    name="duplicate_review_one_open_per_registration"),
            models.UniqueConstraint(fields=["other"], condition=models.Q(status="open", other__isnull=False),
                                    name="duplicate_review_one_open_per_record"),
        ]
        indexes = [models.Index(fields=["group", "status"], name="dup_review_group_status_idx")]

    def __str__(self):
        return f"Possible duplicate of {self.existing_id} ({self.status})"

    @property
    def patient_id(self):
        return self.existing_id

    REASON_LABELS = {"email": "Email", "phone": "Phone", "name_dob": "Name + date of birth"}

    @property
    def reason_labels(self):
        return [self.REASON_LABELS.get(r, r) for r in self.reasons]


class RegistrationEvent(TransitionEvent):
    """A step of a self-registration: who moved it (the registrant verifying their email, or
    the staff member who decided a review), from which status to which, and why."""

    SUBJECT_FIELD = "registration"

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="events")


class DuplicateReviewEvent(TransitionEvent):
    """A decision on a possible duplicate (or its closing with a sibling review)."""

    SUBJECT_FIELD = "review"

    review = models.ForeignKey(DuplicateReview, on_delete=models.CASCADE, related_name="events")
