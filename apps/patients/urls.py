from django.urls import path

from apps.patients import views

urlpatterns = [
    path("portal/", views.portal_home, name="portal_home"),
    path("staff/patients/", views.staff_patient_list, name="staff_patient_list"),
    path("staff/patients/new/", views.staff_patient_create, name="staff_patient_create"),
    path("staff/patients/<uuid:patient_id>/", views.staff_patient_detail, name="staff_patient_detail"),
    path("staff/duplicates/", views.staff_duplicate_list, name="staff_duplicate_list"),
    path("staff/duplicates/<uuid:review_id>/", views.staff_duplicate_detail, name="staff_duplicate_detail"),
    path("staff/duplicates/groups/<uuid:group_id>/", views.staff_duplicate_group, name="staff_duplicate_group"),
]
