from django.urls import path

from apps.core import staff_views

urlpatterns = [
    path("staff/", staff_views.staff_home, name="staff_home"),
]
