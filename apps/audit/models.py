from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.audit.fields import PatientIdsField


class AuditLogImmutable(Exception):
    """The access log is append-only."""


class Action(models.TextChoices):
    READ = "read", "Read"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    LOGIN = "login", "Login"
    LOGIN_FAILED = "login_failed", "Login failed"
    LOGOUT = "logout", "Logout"
    EXPORT = "export", "Export"


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogImmutable("The access log cannot be changed.")

    def delete(self):
        raise AuditLogImmutable("The access log cannot be deleted.")

    def for_patient(self, patient_id):
        """Every entry about this patient: single-object entries (patient_id, b-tree) and list
        entries that showed them (patient_ids, GIN on PostgreSQL): one query, both indexed."""
        return self.filter(Q(patient_id=patient_id) | Q(patient_ids__has=patient_id))


class AccessLog(models.Model):
    """Who did what to which record, when and from where. Append-only: the model refuses
    updates and deletes, and on PostgreSQL a trigger refuses them too (migration 0002)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Both actors are indexed by the composite (actor, -at) indexes below, which also serve the
    # foreign keys' PROTECT checks.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    actor_api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    actor_label = models.CharField(max_length=255, blank=True, help_text="Email or API key name at the time.")
    role = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.UUIDField(null=True, blank=True, db_index=True)
    # A list page's one entry names every patient it showed (record_list); NULL on entries
    # about one object. uuid[] with a GIN index on PostgreSQL (migration 0004), JSON on SQLite.
    patient_ids = PatientIdsField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        # Every audited read updates each of these, so only what is searched by equality or
        # range stays (migration 0003): when (at), whose record (patient_id), who
        # (actor_user/actor_api_key, newest first) and which request (request_id, as a plain
        # index: Meta.indexes adds no varchar_pattern_ops copy for LIKE, which nothing uses).
        # `action` has a handful of values and `object_id` of non-patient objects is reached
        # through patient_id; the admin's text search (icontains) cannot use a b-tree anyway.
        # patient_ids has a GIN index on PostgreSQL only, created by migration 0004 (SQLite has
        # no GIN), so it is not declared here.
        indexes = [
            models.Index(fields=["actor_user", "-at"]),
            models.Index(fields=["actor_api_key", "-at"], name="audit_accesslog_key_at_idx"),
            models.Index(fields=["request_id"], name="audit_accesslog_request_idx"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogImmutable("The access log cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogImmutable("The access log cannot be deleted.")
