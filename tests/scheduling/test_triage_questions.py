"""Triage questions: the portal asks the TriageQuestion rows clinic admins edit, so a rule on a
new answer key can match; rules on keys nobody asks, and questions pulled from under an active
rule, are refused in the admin."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.scheduling.models import Severity, TriageQuestion, TriageRule, VisitRequest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_triage_rules")]

FUTURE = "/portal/schedule/request/future/"
EMERGENCY_KEYS = ["chest_pain", "trouble_breathing", "stroke_signs", "severe_bleeding", "suicidal_thoughts"]
NO_EMERGENCY = {f"q_{k}": "no" for k in EMERGENCY_KEYS}


def future_data(**overrides):
    return {"reason": "Knee pain after running", "symptoms": ["Back or joint pain"], **NO_EMERGENCY, **overrides}


def question_post(**overrides):
    data = {"key": "pregnant", "text": "Are you pregnant?", "help_text": "", "kind": "YES_NO", "order": "60",
            "is_active": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def rule_post(**overrides):
    data = {"name": "Answered: pregnant", "symptom_keyword": "", "answer_key": "pregnant", "answer_operator": "eq",
            "answer_value": "yes", "min_age_months": "", "max_age_months": "", "severity": Severity.ORANGE,
            "priority": "90", "is_active": "on", "note": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_migration_creates_the_former_questions_with_the_same_keys_and_texts():
    rows = {q.key: q for q in TriageQuestion.objects.all()}

    assert [q.key for q in TriageQuestion.objects.filter(is_emergency=True)] == EMERGENCY_KEYS
    assert {"fever", "worsening"} <= set(rows) and not rows["fever"].is_emergency and not rows["worsening"].is_emergency
    assert rows["chest_pain"].text == "Do you have chest pain, pressure or tightness right now?"
    assert all(q.is_active and q.kind == TriageQuestion.Kind.YES_NO for q in rows.values())
    # Every default rule's answer key is asked (or built in).
    for key in TriageRule.objects.exclude(answer_key="").values_list("answer_key", flat=True):
        assert key in rows or key in ("temperature_c", "pain_scale"), key


def test_a_question_and_rule_added_in_the_admin_reach_the_portal_and_triage(client_for, clinic_admin, patient):
    admin = client_for(clinic_admin)
    response = admin.post(reverse("admin:scheduling_triagequestion_add"), question_post(help_text="Or might be."))
    assert response.status_code == 302, response.content.decode()[:2000]
    response = admin.post(reverse("admin:scheduling_triagerule_add"), rule_post())
    assert response.status_code == 302, response.content.decode()[:2000]
    client = client_for(patient.user)

    content = client.get(FUTURE).content.decode()
    assert 'name="q_pregnant"' in content and "Are you pregnant?" in content and "Or might be." in content
    # Optional: not answering it is fine and matches nothing.
    client.post(FUTURE, future_data())
    assert VisitRequest.objects.get(patient=patient).severity == Severity.GREEN
    VisitRequest.objects.all().delete()

    response = client.post(FUTURE, future_data(q_pregnant="yes"))

    request = VisitRequest.objects.get(patient=patient)
    assert response.status_code == 302
    assert request.answers["pregnant"] == "yes"
    assert request.severity == Severity.ORANGE


def test_an_emergency_question_comes_first_and_must_be_answered(client_for, patient):
    TriageQuestion.objects.create(key="fainted", text="Did you faint today?", is_emergency=True, order=200)
    client = client_for(patient.user)

    content = client.get(FUTURE).content.decode()
    assert content.index('name="q_fainted"') < content.index('name="symptoms"') < content.index('name="q_fever"')
    response = client.post(FUTURE, future_data())
    assert response.status_code == 400
    assert "Please answer yes or no." in response.content.decode()
    assert not VisitRequest.objects.exists()


def test_inactive_questions_are_not_asked_nor_sent(client_for, patient):
    TriageQuestion.objects.create(key="pregnant", text="Are you pregnant?", is_active=False)
    client = client_for(patient.user)

    assert 'name="q_pregnant"' not in client.get(FUTURE).content.decode()
    client.post(FUTURE, future_data(q_pregnant="yes"))
    assert "pregnant" not in VisitRequest.objects.get(patient=patient).answers


def test_a_rule_on_a_key_no_question_asks_is_refused(client_for, clinic_admin):
    response = client_for(clinic_admin).post(reverse("admin:scheduling_triagerule_add"), rule_post(answer_key="xyz"))

    assert response.status_code == 200
    assert "No question asks &#x27;xyz&#x27;: add it under Triage questions first." in response.content.decode()
    assert not TriageRule.objects.filter(answer_key="xyz").exists()


@pytest.mark.parametrize("key", ["pain_scale", "temperature_c"])
def test_a_rule_on_a_built_in_key_is_accepted(client_for, clinic_admin, key):
    response = client_for(clinic_admin).post(reverse("admin:scheduling_triagerule_add"),
                                             rule_post(name=f"{key} high", answer_key=key, answer_operator="gte", answer_value="9"))

    assert response.status_code == 302
    assert TriageRule.objects.filter(name=f"{key} high").exists()


def test_deactivating_a_question_an_active_rule_reads_is_refused(client_for, clinic_admin):
    question = TriageQuestion.objects.get(key="chest_pain")
    url = reverse("admin:scheduling_triagequestion_change", args=[question.pk])
    data = question_post(key="chest_pain", text=question.text, is_emergency="on", order="10", is_active=None)

    response = client_for(clinic_admin).post(url, data)

    assert response.status_code == 200
    assert "This question cannot be deactivated: active triage rules read its answer (Answered: chest pain)" in response.content.decode()
    question.refresh_from_db()
    assert question.is_active


def test_renaming_or_deleting_a_question_an_active_rule_reads_is_refused(client_for, clinic_admin):
    question = TriageQuestion.objects.get(key="worsening")
    admin = client_for(clinic_admin)

    response = admin.post(reverse("admin:scheduling_triagequestion_change", args=[question.pk]),
                          question_post(key="getting_worse", text=question.text, order="120"))
    assert response.status_code == 200 and "cannot be renamed" in response.content.decode()
    response = admin.post(reverse("admin:scheduling_triagequestion_delete", args=[question.pk]), {"post": "yes"})
    assert "Answered: symptoms worsening" in response.content.decode()
    assert TriageQuestion.objects.filter(pk=question.pk, key="worsening").exists()


def test_a_question_no_active_rule_reads_can_be_deactivated(client_for, clinic_admin):
    question = TriageQuestion.objects.create(key="pregnant", text="Are you pregnant?")

    response = client_for(clinic_admin).post(reverse("admin:scheduling_triagequestion_change", args=[question.pk]),
                                             question_post(is_active=None))

    assert response.status_code == 302
    question.refresh_from_db()
    assert not question.is_active


@pytest.mark.parametrize("key", ["pain_scale", "Pregnant", "has-dash"])
def test_question_keys_are_lower_snake_case_and_not_built_in(client_for, clinic_admin, key):
    response = client_for(clinic_admin).post(reverse("admin:scheduling_triagequestion_add"), question_post(key=key))

    assert response.status_code == 200
    assert not TriageQuestion.objects.filter(key=key).exists()


def test_the_admin_pages_render(client_for, clinic_admin):
    TriageQuestion.objects.create(key="recent_travel", text="Have you travelled abroad in the last month?")
    client = client_for(clinic_admin)

    listing = client.get(reverse("admin:scheduling_triagequestion_changelist"))
    adding = client.get(reverse("admin:scheduling_triagequestion_add"))

    assert listing.status_code == 200
    assert "Have you travelled abroad in the last month?" in listing.content.decode()
    assert adding.status_code == 200
    assert "<h1>Add triage question</h1>" in adding.content.decode()


def test_the_request_page_costs_the_same_queries_whatever_the_number_of_questions(client_for, patient):
    client = client_for(patient.user)
    client.get(FUTURE)  # warm up (session, caches)

    def queries(method, *args):
        with CaptureQueriesContext(connection) as ctx:
            response = method(*args)
        assert response.status_code in (200, 302)
        return len(ctx.captured_queries)

    few_get, few_post = queries(client.get, FUTURE), queries(client.post, FUTURE, future_data())
    for n in range(10):
        TriageQuestion.objects.create(key=f"extra_{n}", text=f"Extra question {n}?", is_emergency=n % 2 == 0)
    answers = {f"q_extra_{n}": "no" for n in range(10)}
    many_get, many_post = queries(client.get, FUTURE), queries(client.post, FUTURE, future_data(**answers))

    assert many_get == few_get
    assert many_post == few_post
