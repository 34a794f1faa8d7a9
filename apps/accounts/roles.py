"""Roles are groups with permissions. This module is the one place role names live: this table
is the source of truth; ensure_roles() writes it after every migrate (and seed_demo), adding
permissions and removing ones no longer listed. Later apps add their permissions here, and
ask for a user's role (role_of) or the users holding roles (accounts.selectors.staff_in_roles)
through accounts rather than naming groups themselves."""
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission

PATIENT = "patient"
FRONT_DESK = "front_desk"
NURSE = "nurse"
PROVIDER = "provider"
BILLING = "billing"
CLINIC_ADMIN = "clinic_admin"

STAFF_ROLES = [CLINIC_ADMIN, PROVIDER, NURSE, FRONT_DESK, BILLING]
ALL_ROLES = [PATIENT, *STAFF_ROLES]
# Not groups: what the access log and whoami call an API key, and a staff user in no role.
INTEGRATOR = "integrator"
STAFF_WITHOUT_ROLE = "staff"


def role_of(user):
    """The user's role name: PATIENT for portal users, CLINIC_ADMIN for superusers, else the
    first of STAFF_ROLES among their groups (STAFF_WITHOUT_ROLE when none)."""
    if not user.is_staff:
        return PATIENT
    if user.is_superuser:
        return CLINIC_ADMIN
    names = {g.name for g in user.groups.all()}
    for role in STAFF_ROLES:
        if role in names:
            return role
    return STAFF_WITHOUT_ROLE


_PATIENT_READ = ["patients.view_patient"]
_PATIENT_WRITE = ["patients.add_patient", "patients.change_patient"]
# The review's decisions (its event rows) show on its admin page, for those who decide.
_DUPLICATES = ["patients.view_duplicatereview", "patients.change_duplicatereview", "patients.view_duplicatereviewevent"]

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


# --- scheduling ---------------------------------------------------------------------------
_SCHEDULING_READ = [
    "scheduling.view_location", "scheduling.view_provider", "scheduling.view_visittype",
    "scheduling.view_availabilitywindow", "scheduling.view_availabilityexception", "scheduling.view_visitslot",
    "scheduling.view_visitrequest", "scheduling.view_visit", "scheduling.view_triagerule", "scheduling.view_triagequestion",
]
_SCHEDULING_DESK = [
    "scheduling.add_visitrequest", "scheduling.change_visitrequest", "scheduling.triage_visitrequest",
    "scheduling.offer_slots_visitrequest", "scheduling.add_visit", "scheduling.change_visit",
    "scheduling.change_visitslot",  # block / unblock
]
_SCHEDULING_CONFIG = [
    f"scheduling.{action}_{model}"
    for model in ["location", "provider", "visittype", "availabilitywindow", "availabilityexception", "triagerule", "triagequestion"]
    for action in ["add", "change", "delete"]
]
ROLE_PERMISSIONS[FRONT_DESK] = ROLE_PERMISSIONS[FRONT_DESK] + _SCHEDULING_READ + _SCHEDULING_DESK + ["scheduling.add_availabilityexception"]
ROLE_PERMISSIONS[NURSE] = ROLE_PERMISSIONS[NURSE] + _SCHEDULING_READ + _SCHEDULING_DESK + ["scheduling.override_severity_visitrequest"]
ROLE_PERMISSIONS[PROVIDER] = ROLE_PERMISSIONS[PROVIDER] + _SCHEDULING_READ + [
    "scheduling.change_visitrequest", "scheduling.triage_visitrequest", "scheduling.review_visitrequest",
    "scheduling.override_severity_visitrequest", "scheduling.change_visit",
]
ROLE_PERMISSIONS[BILLING] = ROLE_PERMISSIONS[BILLING] + ["scheduling.view_visit", "scheduling.view_visittype", "scheduling.view_provider", "scheduling.view_location"]
ROLE_PERMISSIONS[CLINIC_ADMIN] = ROLE_PERMISSIONS[CLINIC_ADMIN] + (
    _SCHEDULING_READ + _SCHEDULING_DESK + _SCHEDULING_CONFIG
    + ["scheduling.override_severity_visitrequest", "scheduling.review_visitrequest"]
)


# --- secure messaging ---------------------------------------------------------------------
# Front desk, nurses, providers and admins read, answer, assign, close and reopen patient
# threads and start one on a patient's behalf. Billing gets none: threads carry clinical
# content, and minimum-necessary access keeps it from staff who do not need it; a billing
# question reaches billing through the desk (or, later, a billing topic routed to them).
_MESSAGING = [
    "messaging.view_thread", "messaging.add_thread", "messaging.change_thread",
    "messaging.reply_thread", "messaging.assign_thread",
]
for _role in (FRONT_DESK, NURSE, PROVIDER, CLINIC_ADMIN):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] + _MESSAGING


def ensure_roles():
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def ensure_roles_after_migrate(sender, **kwargs):
    """post_migrate fires once per app (and after every test flush): act on the last app only,
    when every app's permissions exist."""
    last = [config for config in django_apps.get_app_configs() if config.models_module is not None][-1]
    if sender.label == last.label:
        ensure_roles()
