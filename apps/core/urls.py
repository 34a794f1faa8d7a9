from django.urls import path

from django.views.generic import TemplateView

from apps.core import staff_views

urlpatterns = [
    path("staff/", staff_views.staff_home, name="staff_home"),
    path("terms/", TemplateView.as_view(template_name="core/terms.html"), name="terms"),
    path("privacy/", TemplateView.as_view(template_name="core/privacy.html"), name="privacy"),
]
