"""Open WebSockets follow a user's access as it changes (apps/core/consumers.py): these
receivers ask core to close a user's sockets, after commit, when they log out, are
deactivated, lose or gain a role or permission, or lose a second-factor device. A page whose
socket closes reconnects and is admitted again with what the user may see now, or refused.
Connected in AccountsConfig.ready()."""
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User
from apps.core.consumers import CLOSE_ACCESS_CHANGED, CLOSE_UNAUTHENTICATED, revoke_sockets


def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        revoke_sockets(user.pk, code=CLOSE_UNAUTHENTICATED)


def _user_saved(sender, instance, created, update_fields=None, **kwargs):
    if created:
        return
    if update_fields is not None and not {"is_active", "is_staff", "is_superuser"} & set(update_fields):
        return  # a login timestamp or a name: access unchanged
    # A full save (the admin's user form) may have changed anything: let connect() decide again.
    revoke_sockets(instance.pk, code=CLOSE_ACCESS_CHANGED if instance.is_active else CLOSE_UNAUTHENTICATED)


def _roles_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:  # user.groups.add(group)
        revoke_sockets(instance.pk, code=CLOSE_ACCESS_CHANGED)
        return
    # group.user_set.remove(user) or group.permissions changed: every user concerned.
    user_ids = pk_set if sender is User.groups.through else instance.user_set.values_list("pk", flat=True)
    for user_id in user_ids or ():
        revoke_sockets(user_id, code=CLOSE_ACCESS_CHANGED)


def _device_changed(sender, instance, **kwargs):
    if kwargs.get("created"):
        return
    if kwargs.get("signal") is post_delete or not getattr(instance, "confirmed", True):
        revoke_sockets(instance.user_id, code=CLOSE_ACCESS_CHANGED)


def connect():
    user_logged_out.connect(_logged_out, dispatch_uid="accounts.sockets.logged_out")
    post_save.connect(_user_saved, sender=User, dispatch_uid="accounts.sockets.user_saved")
    m2m_changed.connect(_roles_changed, sender=User.groups.through, dispatch_uid="accounts.sockets.groups")
    m2m_changed.connect(_roles_changed, sender=User.user_permissions.through, dispatch_uid="accounts.sockets.perms")
    for device in (TOTPDevice, StaticDevice):
        post_delete.connect(_device_changed, sender=device, dispatch_uid=f"accounts.sockets.{device.__name__}.deleted")
        post_save.connect(_device_changed, sender=device, dispatch_uid=f"accounts.sockets.{device.__name__}.saved")
