"""/fhir/ (included from clinic/urls.py): the R4 read API. One read and one search route per
resource type (apps/fhir/registry.py), the CapabilityStatement, and an OperationOutcome 404 for
anything else under /fhir/."""
from django.urls import path, re_path

from apps.fhir import views
from apps.fhir.registry import resource_types

urlpatterns = [path("R4/metadata", views.MetadataView.as_view(), name="fhir-metadata")]
for _name, _type in resource_types().items():
    urlpatterns += [
        path(f"R4/{_name}", views.SearchView.as_view(resource_type=_type), name=f"fhir-{_name.lower()}-search"),
        path(f"R4/{_name}/<str:resource_id>", views.ReadView.as_view(resource_type=_type), name=f"fhir-{_name.lower()}-read"),
    ]
urlpatterns.append(re_path(r"^(?P<version>R4/)?(?P<rest>.*)$", views.unknown, name="fhir-unknown"))
