from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from apps.accounts import roles, schema  # noqa: F401 (schema registers OpenAPI extensions)

        # Groups and their permissions follow the code after every migrate. Permissions of
        # later apps are created by their own post_migrate, so this listens to all of them.
        post_migrate.connect(roles.ensure_roles_after_migrate, dispatch_uid="accounts.ensure_roles")
