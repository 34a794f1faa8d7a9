"""Long lists cost a fixed number of queries, whatever their length."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.patients import views
from tests.factories import PatientFactory, PortalPatientFactory

pytestmark = pytest.mark.django_db


def make_patients(n):
    # Half with portal logins, so a per-row lookup of the login would show.
    PatientFactory.create_batch(n - n // 2)
    PortalPatientFactory.create_batch(n // 2)


def count_queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_api_list_costs_the_same_for_5_and_50_patients(integrator_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {integrator_key[1]}")
    client.get("/api/v1/patients/")  # the first use of a key records last_used_at once

    make_patients(5)
    small, small_response = count_queries(lambda: client.get("/api/v1/patients/", {"page_size": 5}))
    make_patients(45)
    large, large_response = count_queries(lambda: client.get("/api/v1/patients/", {"page_size": 50}))

    assert len(small_response.json()["results"]) == 5
    assert len(large_response.json()["results"]) == 50
    assert small == large
    assert large <= 4  # key lookup, count, page, one audit INSERT


def test_api_list_for_a_staff_session_costs_the_same_for_5_and_50(client_for, front_desk):
    client = client_for(front_desk)
    client.get("/api/v1/patients/")

    make_patients(5)
    small, small_response = count_queries(lambda: client.get("/api/v1/patients/", {"page_size": 5}))
    make_patients(45)
    large, large_response = count_queries(lambda: client.get("/api/v1/patients/", {"page_size": 50}))

    assert (len(small_response.json()["results"]), len(large_response.json()["results"])) == (5, 50)
    assert small == large


def test_staff_list_costs_the_same_for_5_and_50_patients(client_for, front_desk, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 50)
    client = client_for(front_desk)
    client.get("/staff/patients/")

    make_patients(5)
    small, small_response = count_queries(lambda: client.get("/staff/patients/"))
    make_patients(45)
    large, large_response = count_queries(lambda: client.get("/staff/patients/"))

    assert len(small_response.context["patients"]) == 5
    assert len(large_response.context["patients"]) == 50
    assert small == large


def test_staff_search_costs_the_same_for_5_and_50_matches(client_for, billing_user, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 50)
    client = client_for(billing_user)
    client.get("/staff/patients/")

    PatientFactory.create_batch(5, last_name="Smithers")
    small, small_response = count_queries(lambda: client.get("/staff/patients/", {"q": "smith"}))
    PatientFactory.create_batch(45, last_name="Smithson")
    large, response = count_queries(lambda: client.get("/staff/patients/", {"q": "smith"}))

    assert len(small_response.context["patients"]) == 5
    assert len(response.context["patients"]) == 50
    assert all(p.last_name.encode() in response.content for p in response.context["patients"])
    assert small == large


def test_duplicate_list_costs_the_same_for_few_and_many(client_for, front_desk):
    from apps.patients.services import patient_create

    client = client_for(front_desk)
    client.get("/staff/duplicates/")

    def flag(n):
        for _ in range(n):
            existing = PatientFactory()
            patient_create(data={"first_name": existing.first_name, "last_name": existing.last_name, "date_of_birth": existing.date_of_birth})

    flag(2)
    small, _ = count_queries(lambda: client.get("/staff/duplicates/"))
    flag(10)
    large, response = count_queries(lambda: client.get("/staff/duplicates/"))

    assert len(response.context["groups"]) == 12
    assert small == large
