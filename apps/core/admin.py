"""Admin building blocks shared by the apps."""
from django.contrib import admin


class ReadOnlyAdminMixin:
    """Rows that only services write (records, events, logs): the admin shows them and
    changes nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """A read-only list of related rows (events, attempts, messages) under an admin page."""

    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields or self.fields or [f.name for f in self.model._meta.fields]
