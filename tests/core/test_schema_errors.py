"""The OpenAPI schema documents the error answers every operation can give (apps/core/api/schema.py)."""
import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_every_operation_documents_auth_errors_and_throttling_in_the_error_format(schema):
    assert schema["components"]["schemas"]["Error"]["required"] == ["code", "message", "extra"]
    for path, method, operation in operations(schema):
        for code in ("401", "403", "429"):
            assert code in operation["responses"], f"{method.upper()} {path} does not document {code}"


def test_ids_in_paths_document_404_and_writes_document_400_and_409(schema):
    checked = 0
    for path, method, operation in operations(schema):
        if "{" in path:
            assert "404" in operation["responses"], f"{method.upper()} {path}"
        if method in {"post", "put", "patch"}:
            assert {"400", "409"} <= set(operation["responses"]), f"{method.upper()} {path}"
            checked += 1
    assert checked > 10


def test_a_list_with_query_parameters_documents_400(schema):
    responses = schema["paths"]["/api/v1/patients/"]["get"]["responses"]
    assert responses["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "200" in responses
