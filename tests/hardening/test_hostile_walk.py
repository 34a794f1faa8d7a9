"""Every page and API endpoint of the URL conf, walked with each hostile class (tests/hardening/
walk_table.py says who calls each route and what it reads): integers past 64 bits in query
parameters, bodies and ids; dates and times at year 1 and 9999 (and 9999-12-31T23:00 with an
offset); times inside the clinic's DST gap; NUL in every query parameter and form or JSON
field; 10,000 characters for short fields; deeply nested JSON.

For each request: never a 5xx; where the value cannot be right, a 400 naming the field (the
API's `extra.fields`, a page's form error shown on the page or its message line) or a 404; and
nothing written by a refused request (row counts and states of the main tables before and
after). Each request runs in a savepoint rolled back afterwards, so every request meets the
same world. Runs on SQLite and PostgreSQL (which refuses NUL and overflowing integers where
SQLite stores them)."""
import html
import json

import pytest
from django.apps import apps as django_apps
from django.db import DatabaseError, connection, transaction
from django.forms import BaseForm
from django.forms.widgets import ChoiceWidget
from django.test import Client
from django.utils import timezone
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.accounts.scopes import SCOPES
from apps.messaging.models import Notification
from tests.conftest import api_keyed_client, api_session, login
from tests.scheduling.conftest import default_triage_questions  # noqa: F401 (a fixture)
from tests.hardening.walk_table import (
    ANY, EXCLUDED_NAMES, EXCLUDED_PREFIXES, FORM, HUGE, KNOWN_GAPS, NUL, REDIRECT, ROUTES, P, make_world, values,
)

pytestmark = pytest.mark.django_db

NAMES = sorted({route.name for route in ROUTES})
PROBE = P("probe", "free")
DEEP = "[" * 5_000 + "]" * 5_000


# --- the URL conf and the table agree ---------------------------------------------------------

def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def test_every_route_is_in_the_table():
    missing = sorted(
        f"{path} ({name})" for path, name in _walk(get_resolver().url_patterns)
        if name not in NAMES and name not in EXCLUDED_NAMES and not path.startswith(EXCLUDED_PREFIXES)
    )
    assert missing == [], "routes without a row in tests/hardening/walk_table.py"


# --- what was written -------------------------------------------------------------------------

# Every table of our apps but audit (reads write audit entries) and accounts (signing in writes
# there): its row count, and for tables with a state, each row's state. Read in one query, so the
# snapshot stays cheap as apps are added and no new app's tables can be forgotten.
EXTRA_FIELDS = {
    "scheduling.VisitRequest": ("severity",), "scheduling.Visit": ("start", "slot_id"),
    "scheduling.VisitSlot": ("held_until",), "messaging.Thread": ("assigned_to_id", "last_message_at"),
    "messaging.Notification": ("read_at",),
}
STATE_FIELDS = ("status", "updated_at")


def _watched():
    for model in django_apps.get_models():
        label = model._meta.label
        if not model.__module__.startswith("apps.") or model._meta.app_label in ("audit", "accounts"):
            continue
        if not model._meta.managed or model._meta.proxy:
            continue
        names = {field.name: field.column for field in model._meta.concrete_fields}
        columns = [names[name] for name in STATE_FIELDS + EXTRA_FIELDS.get(label, ()) if name in names]
        yield label, model._meta.db_table, model._meta.pk.column, columns


def _snapshot_sql():
    qn = connection.ops.quote_name
    parts, labels = [], []
    for label, table, pk, columns in _watched():
        parts.append(f"(SELECT COUNT(*) FROM {qn(table)})")
        labels.append(f"{label} rows")
        if columns:
            row = " || '|' || ".join(f"COALESCE(CAST({qn(c)} AS TEXT), '-')" for c in [pk, *columns])
            if connection.vendor == "postgresql":
                parts.append(f"(SELECT string_agg({row}, ',' ORDER BY {qn(pk)}) FROM {qn(table)})")
            else:
                parts.append(f"(SELECT group_concat(r, ',') FROM (SELECT {row} AS r FROM {qn(table)} ORDER BY {qn(pk)}))")
            labels.append(f"{label} states")
    return "SELECT " + ", ".join(parts), labels


def snapshot():
    sql, labels = _snapshot_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(labels, cursor.fetchone()))


def test_the_snapshot_sees_every_app_table_and_a_state_change(world):
    before = snapshot()
    assert {"consents.ConsentForm rows", "billing.Invoice states", "patients.DuplicateGroup rows"} <= set(before)
    Notification.objects.create(recipient=world.patient.user, kind="message", title="t")
    after = snapshot()
    Notification.objects.filter(recipient=world.patient.user).update(read_at=timezone.now())
    assert {"messaging.Notification rows", "messaging.Notification states"} <= set(changed(before, after))
    assert "messaging.Notification states" in changed(after, snapshot())
    assert "messaging.Notification rows" not in changed(after, snapshot())


def changed(before, after):
    return sorted(name for name in before if before[name] != after[name])


# --- sending ----------------------------------------------------------------------------------

@pytest.fixture
def world(db, api_key_factory, default_triage_questions):
    world = make_world()
    _, raw = api_key_factory(*SCOPES)
    api = api_keyed_client(raw)
    clients = {"api": api, "api_staff": api_session(world.staff), "staff": login(Client(), world.staff),
               "patient": login(Client(), world.patient.user), "anon": Client()}
    clients["app"] = clients["patient"]  # the patient app API (JSON), as the signed-in patient
    for client in clients.values():
        client.raise_request_exception = False  # a 500 is an answer to look at, not a test crash
    world.clients = clients
    return world


def url_of(route, world):
    return reverse(route.name, kwargs=route.path(world) if route.path else None)


def send(world, route, method, url, *, query=None, body=None, raw=None):
    """One request in a savepoint rolled back afterwards: (response, tables written)."""
    client = world.clients[route.actor]
    sid = transaction.savepoint()
    try:
        before = snapshot()
        if method == "GET":
            response = client.get(url, query or {})
        elif route.api:
            payload = raw if raw is not None else json.dumps(body or {})
            response = client.generic(method, url, payload, content_type="application/json")
        else:
            response = client.post(url, body or {})
        try:
            written = changed(before, snapshot())
        except DatabaseError:
            written = ["(the transaction was broken)"]
    finally:
        transaction.savepoint_rollback(sid)
    return response, written


def _forms(context):
    found = []
    contexts = context if isinstance(context, list) else [context] if context is not None else []
    layers = [layer for ctx in contexts for layer in ctx]  # a Context iterates its dicts
    for layer in layers:
        for value in layer.values():
            if isinstance(value, BaseForm):
                found.append(value)
            elif isinstance(value, dict):
                found.extend(v for v in value.values() if isinstance(v, BaseForm))
    return found


def names_field(response, field):
    """Whether the answer names `field`: in the API's extra.fields (a dotted path under it
    counts), or on the page as a form error shown to the user, or in its message line (by
    the field's label or its quoted name)."""
    if response["Content-Type"].startswith("application/json"):
        fields = response.json().get("extra", {}).get("fields", {})
        return any(key == field.name or key.startswith(field.name + ".") for key in fields)
    text = response.content.decode()
    bare = field.name.split("-")[-1]
    for form in _forms(response.context):
        for message in form.errors.get(bare, []):
            # The message beside the field, or (checkboxes and radio buttons, whose values
            # only a crafted request gets wrong) the field marked as in error.
            if html.escape(message) in text or message in text:
                return True
            if isinstance(form.fields[bare].widget, ChoiceWidget) and "has-error" in text:
                return True
    return f"“{field.name}”" in text or bool(field.label and f"{field.label}:" in text)


def judge(response, written, field, expect):
    """A problem with this answer, or None."""
    status = response.status_code
    if status >= 500:
        return f"{status}"
    if expect == ANY:
        return None
    if written:
        return f"{status} but wrote {written}"
    if expect == REDIRECT:
        return None if status in (302, 400, 404) else f"{status}, not a refusal"
    if expect == FORM:
        return None if status in (200, 400) and names_field(response, field) else f"{status} without the error on {field.name}"
    if status == 404:
        return None
    if status != 400:
        return f"{status}, not 400"
    if not names_field(response, field):
        return f"400 without naming {field.name}: {response.content[:300]!r}"
    return None


def hostile(field, value, route, method):
    """The value as the request carries it: a list for list fields, a JSON number for integers
    past 64 bits in a JSON body."""
    if route.api and method != "GET" and value in (HUGE, "-" + HUGE) and field.kind in ("int", "uuid", "choice"):
        value = int(value)
    if field.wrap:
        value = field.wrap(value)
    return [value] if field.many else value


def walk(world, route, *, only=None):
    """The problems of every hostile request to `route` (`only`: one (method, field, class))."""
    problems = []
    url = url_of(route, world)
    if route.get and only is None:
        query = route.query_base(world) if route.query_base else {}
        response, _ = send(world, route, "GET", url, query=query)
        if response.status_code >= 500:
            problems.append(f"GET {url}: {response.status_code} without hostile input")
        response, written = send(world, route, "GET", url, query={**query, "probe": NUL})
        if response.status_code != 400 or written or not names_field(response, PROBE):
            problems.append(f"GET ?probe=NUL: {response.status_code}")
        for field in route.query:
            for label, value in values(field.kind):
                response, written = send(world, route, "GET", url, query={**query, field.name: value})
                problem = judge(response, written, field, field.expectation(label))
                if problem:
                    problems.append(f"GET ?{field.name}= {label}: {problem}")
    for method, fields in route.body.items():
        base = route.base(world)[method]
        for field in fields:
            for label, value in values(field.kind):
                known = (route.name, method, field.name, label) in KNOWN_GAPS
                if (only is None and known) or (only is not None and only != (method, field.name, label)):
                    continue
                body = {**base, field.name: hostile(field, value, route, method)}
                response, written = send(world, route, method, url, body=body)
                problem = judge(response, written, field, field.expectation(label))
                if problem:
                    problems.append(f"{method} {field.name}= {label}: {problem}")
        if route.api and fields and only is None:
            response, written = send(world, route, method, url, raw=DEEP)
            if response.status_code != 400 or written:
                problems.append(f"{method} deeply nested JSON: {response.status_code} wrote {written}")
    return problems


@pytest.mark.parametrize("name", NAMES)
def test_hostile_input_gets_a_clear_answer_and_writes_nothing(world, name):
    routes = [route for route in ROUTES if route.name == name]

    problems = [f"{route.name} {problem}" for route in routes for problem in walk(world, route)]

    assert problems == [], f"{url_of(routes[0], world)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("gap", sorted(KNOWN_GAPS))
def test_a_known_gap_is_still_open(world, gap):
    name, method, field, label = gap
    route = next(route for route in ROUTES if route.name == name and method in route.body)
    pytest.xfail(KNOWN_GAPS[gap]) if walk(world, route, only=(method, field, label)) else None

    assert False, f"{gap} is answered well now: remove it from KNOWN_GAPS"


def _path_id_urls(route, world):
    """The route's URL with each id replaced by a hostile one."""
    kwargs = route.path(world)
    good = reverse(route.name, kwargs=kwargs)
    for name, value in kwargs.items():
        if name == "action":
            continue
        for bad in (HUGE, "%00", "9" * 5_000):
            yield name, bad, good.replace(str(value), bad)


@pytest.mark.parametrize("name", sorted({route.name for route in ROUTES if route.path}))
def test_a_hostile_id_in_the_path_is_not_found(world, name):
    route = next(route for route in ROUTES if route.name == name)
    problems = []

    for kwarg, bad, url in _path_id_urls(route, world):
        for method in (["GET"] if route.get else []) + list(route.body):
            base = route.base(world).get(method, {}) if route.base else {}
            response, written = send(world, route, method, url, body=base)
            if response.status_code != 404 or written:
                problems.append(f"{method} {kwarg}={bad[:25]}: {response.status_code} wrote {written}")

    assert problems == []
