import hashlib
import hmac
import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from apps.accounts.roles import INTEGRATOR, role_of
from apps.core.phone import validate_e164


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in, by email. Staff (is_staff) hold one of the staff roles and must
    pass a second factor; patients reach the portal through their linked Patient record."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Clinic staff: may use the staff pages and the admin after MFA."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    # The mobile number a one-time sign-in code may be texted to (E.164), once verified by a
    # code sent to it (django-allauth's phone verification). Patients' contact numbers live on
    # their Patient record; this one only signs in.
    phone = models.CharField(max_length=16, null=True, blank=True, unique=True, validators=[validate_e164],
                             help_text="Mobile number for sign-in codes, E.164 (+15555550123).")
    phone_verified = models.BooleanField(default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.full_name or self.email

    # Titles people are addressed by with their family name: "Dr. Priya Shah" -> "Dr. Shah".
    HONORIFICS = {"dr", "dr.", "prof", "prof.", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "mx", "mx."}

    def get_short_name(self):
        """How a greeting addresses the user: the first name, or the title and family name."""
        words = self.full_name.split()
        if not words:
            return self.email
        if words[0].lower() in self.HONORIFICS and len(words) > 1:
            return f"{words[0]} {words[-1]}"
        return words[0]

    @property
    def is_clinic_staff(self):
        return self.is_active and self.is_staff

    @property
    def role_label(self):
        return self.role.replace("_", " ").capitalize()

    @property
    def role(self):
        """The user's role name (accounts.roles.role_of)."""
        return role_of(self)


def _hash_key(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """An integrator's key. The raw key is shown once at creation; only its SHA-256 is kept
    (keys carry 256 bits of randomness, so a fast hash is enough). Looked up by prefix."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self):
        return self.revoked_at is None

    def has_scope(self, scope):
        return scope in self.scopes

    def matches(self, raw):
        return hmac.compare_digest(self.key_hash, _hash_key(raw))

    # The API's request.user for a key: authenticated, not staff, no model permissions; its
    # role in the access log and whoami.
    role = INTEGRATOR
    is_authenticated = True
    is_clinic_staff = False
    is_staff = False
    is_superuser = False

    def has_perm(self, perm, obj=None):
        return False
