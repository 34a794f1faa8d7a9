from django.contrib import admin

from apps.scheduling.models import Location


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "phone", "is_active"]
    list_filter = ["is_active"]
