from django.apps import AppConfig
from django.db.models.signals import post_migrate

from apps.accounts import schema  # noqa: F401 (registers the OpenAPI extensions of our authentication)


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # Imported here, not at the top: roles imports django.contrib.auth's models, and Django
        # imports apps.py before any model can be loaded (AppRegistryNotReady).
        from apps.accounts import roles, sockets

        # Groups and their permissions follow the code after every migrate. Permissions of
        # later apps are created by their own post_migrate, so this listens to all of them.
        post_migrate.connect(roles.ensure_roles_after_migrate, dispatch_uid="accounts.ensure_roles")
        # Open WebSockets close when their user's access changes (apps/core/consumers.py).
        sockets.connect()
