"""GET /api/v1/slots/ as rows: the number of queries, the rows' output against DRF's own
fields, the total and page links from the one page query, and (PostgreSQL) the partial index
of migration 0004 under the page query."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers

from apps.scheduling import selectors
from apps.scheduling.models import Mode, VisitSlot
from apps.scheduling.serializers import SlotOutput
from tests.scheduling.api_support import API, integrator  # noqa: F401
from tests.scheduling.factories import ProviderFactory, VisitTypeFactory

pytestmark = pytest.mark.django_db

SLOTS = f"{API}/slots/"


def _window(days=7):
    start = timezone.now().replace(microsecond=0)
    return {"start": start.isoformat(), "end": (start + datetime.timedelta(days=days)).isoformat()}


def _queries(client, params):
    client.get(SLOTS, params)  # the key's last_used_at is written at most once a minute
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(SLOTS, params)
    assert response.status_code == 200, response.content
    return [q["sql"] for q in ctx.captured_queries], response


@pytest.mark.parametrize("page_size", [1, 10, 30])
def test_a_search_costs_the_key_lookup_and_one_page_query(integrator, make_slot, provider, page_size):
    for hours in range(30, 30 + 12):
        make_slot(hours_from_now=hours)

    sql, response = _queries(integrator, {"provider": str(provider.pk), "page_size": page_size, **_window()})

    assert len(sql) == 2, sql  # the API key, then the page with its total
    assert "COUNT(*)" in sql[1] and "LIMIT" in sql[1]
    assert response.json()["count"] == 12
    assert len(response.json()["results"]) == min(page_size, 12)


def test_a_visit_type_search_is_still_two_queries_and_counts_what_it_shows(integrator, make_slot, provider, visit_type):
    other = ProviderFactory(offers=[VisitTypeFactory()])
    mine = [make_slot(hours_from_now=30 + h) for h in range(3)]
    make_slot(hours_from_now=31, provider=other)
    make_slot(hours_from_now=40, mode=Mode.VIRTUAL)

    sql, response = _queries(integrator, {"visit_type": str(visit_type.pk), **_window()})

    assert len(sql) == 3  # the key, the visit type (input validation), the page
    assert response.json()["count"] == 3
    assert [r["id"] for r in response.json()["results"]] == [str(s.pk) for s in mine]


def test_the_total_and_the_links_match_the_pages(integrator, make_slot, provider):
    slots = [make_slot(hours_from_now=30 + h) for h in range(5)]
    params = {"provider": str(provider.pk), "page_size": 2, **_window()}

    first = integrator.get(SLOTS, params).json()
    second = integrator.get(first["next"]).json()
    last = integrator.get(SLOTS, {**params, "page": "last"}).json()
    beyond = integrator.get(SLOTS, {**params, "page": 4})

    assert first["count"] == second["count"] == last["count"] == 5
    assert first["previous"] is None and second["previous"] is not None
    assert [r["id"] for r in first["results"] + second["results"] + last["results"]] == [str(s.pk) for s in slots]
    assert last["next"] is None
    assert beyond.status_code == 404


def test_no_match_answers_an_empty_page(integrator, provider):
    sql, response = _queries(integrator, {"provider": str(provider.pk), **_window()})

    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("tz", ["America/New_York", "UTC", "Asia/Kolkata"])
def test_rows_render_as_drf_renders_the_model_instances(make_slot, provider, tz):
    make_slot(hours_from_now=30)
    make_slot(hours_from_now=200)  # across a DST change or not, depending on the day
    start = timezone.now()
    qs = selectors.slot_search(start=start, end=start + datetime.timedelta(days=31), provider=provider)

    with timezone.override(tz):
        rows = SlotOutput(list(qs.values(*selectors.SLOT_SEARCH_COLUMNS)), many=True).data
        instances = SlotOutput(list(qs), many=True).data
        # DRF's generic path (get_attribute + each field's to_representation), bypassing the plan.
        drf = [serializers.Serializer.to_representation(SlotOutput(), slot) for slot in qs]

    assert rows == instances == drf
    assert len(rows) == 2
    if tz == "UTC":
        assert rows[0]["start"].endswith("Z")


def test_the_row_columns_are_what_slot_output_reads():
    assert {key for _, key, _, _ in SlotOutput.row_plan()} == set(selectors.SLOT_SEARCH_COLUMNS)


@pytest.mark.parametrize("by_provider", [True, False])
def test_the_page_query_can_use_the_free_slot_partial_indexes(requires_postgres, make_slot, provider, visit_type, by_provider):
    for hours in range(30, 40):
        make_slot(hours_from_now=hours)
    start = timezone.now()
    qs = selectors.slot_search(start=start, end=start + datetime.timedelta(days=7),
                               provider=provider if by_provider else None, visit_type=None if by_provider else visit_type)
    sql, params = qs.values(*selectors.SLOT_SEARCH_COLUMNS)[:25].query.sql_with_params()

    with connection.cursor() as cursor:
        # A test table is tiny: forbid the sequential scan so the plan shows whether the
        # filter still matches the index's predicate (status = 'FREE').
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "slot_free_provider_start_idx" in plan or "slot_free_start_provider_idx" in plan, plan
