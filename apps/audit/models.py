from django.conf import settings
from django.db import models
from django.utils import timezone


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
        return self.filter(patient_id=patient_id)


class AccessLog(models.Model):
    """Who did what to which record, when and from where. Append-only: the model refuses
    updates and deletes, and on PostgreSQL a trigger refuses them too (migration 0002)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_api_key = models.ForeignKey("accounts.ApiKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=255, blank=True, help_text="Email or API key name at the time.")
    role = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    patient_id = models.UUIDField(null=True, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    path = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["actor_user", "-at"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogImmutable("The access log cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogImmutable("The access log cannot be deleted.")
