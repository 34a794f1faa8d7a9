"""Roles are groups with permissions. This table is the source of truth; ensure_roles() writes
it after every migrate (and seed_demo), adding permissions and removing ones no longer listed.
Later apps add their permissions here."""

PATIENT = "patient"
FRONT_DESK = "front_desk"
NURSE = "nurse"
PROVIDER = "provider"
BILLING = "billing"
CLINIC_ADMIN = "clinic_admin"

STAFF_ROLES = [CLINIC_ADMIN, PROVIDER, NURSE, FRONT_DESK, BILLING]
ALL_ROLES = [PATIENT, *STAFF_ROLES]

_PATIENT_READ = ["patients.view_patient"]
_PATIENT_WRITE = ["patients.add_patient", "patients.change_patient"]
_DUPLICATES = ["patients.view_duplicatereview", "patients.change_duplicatereview"]

ROLE_PERMISSIONS = {
    PATIENT: [],
    FRONT_DESK: _PATIENT_READ + _PATIENT_WRITE + _DUPLICATES,
    NURSE: _PATIENT_READ + ["patients.change_patient"],
    PROVIDER: _PATIENT_READ + ["patients.change_patient"],
    BILLING: _PATIENT_READ,
    CLINIC_ADMIN: _PATIENT_READ
    + _PATIENT_WRITE
    + _DUPLICATES
    + [
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_apikey",
        "accounts.add_apikey",
        "accounts.change_apikey",
        "audit.view_accesslog",
        "messaging.view_notification",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
    ],
}


def ensure_roles():
    from django.contrib.auth.models import Group, Permission

    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def ensure_roles_after_migrate(sender, **kwargs):
    ensure_roles()
