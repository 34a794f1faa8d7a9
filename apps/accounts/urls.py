from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("staff/mfa/", views.mfa_start, name="staff_mfa"),
    path("staff/mfa/setup/", views.mfa_setup, name="staff_mfa_setup"),
    path("staff/mfa/verify/", views.mfa_verify, name="staff_mfa_verify"),
    path("staff/mfa/backup-codes/", views.backup_codes, name="staff_mfa_backup_codes"),
]
