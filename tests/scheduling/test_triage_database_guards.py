"""The database keeps triage answer keys honest even when the model is bypassed
(QuerySet.update, bulk_create, raw SQL): scheduling migration 0011's triggers, on SQLite and
PostgreSQL."""
import pytest
from django.db import IntegrityError, connection, transaction

from apps.scheduling.models import Severity, TriageQuestion, TriageRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def question():
    return TriageQuestion.objects.create(key="pregnant", text="Are you pregnant?")


@pytest.fixture
def rule(question):
    return TriageRule.objects.create(name="Guard: pregnant", answer_key="pregnant", answer_value="yes", severity=Severity.ORANGE)


def _refused(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_a_rule_on_a_key_no_question_asks_is_refused_by_bulk_create():
    _refused(lambda: TriageRule.objects.bulk_create([
        TriageRule(name="Guard: nobody asks", answer_key="not_asked", answer_value="yes", severity=Severity.RED),
    ]))

    assert not TriageRule.objects.filter(name="Guard: nobody asks").exists()


def test_renaming_a_rules_key_to_an_unknown_one_by_update_is_refused(rule):
    _refused(lambda: TriageRule.objects.filter(pk=rule.pk).update(answer_key="  Not_Asked "))

    assert TriageRule.objects.get(pk=rule.pk).answer_key == "pregnant"


def test_a_rule_on_a_builtin_key_a_question_key_in_other_case_or_an_inactive_rule_is_accepted(question):
    TriageRule.objects.bulk_create([
        TriageRule(name="Guard: fever", answer_key="temperature_c", answer_operator="gte", answer_value="39", severity=Severity.RED),
        TriageRule(name="Guard: case", answer_key=" Pregnant", answer_value="yes", severity=Severity.ORANGE),
        TriageRule(name="Guard: off", answer_key="not_asked", answer_value="yes", severity=Severity.RED, is_active=False),
    ])

    assert TriageRule.objects.filter(name__in=["Guard: fever", "Guard: case", "Guard: off"]).count() == 3


def test_activating_a_rule_on_an_unknown_key_by_raw_sql_is_refused():
    off = TriageRule.objects.create(name="Guard: off", answer_key="not_asked", answer_value="yes", severity=Severity.RED, is_active=False)
    table = TriageRule._meta.db_table

    def activate():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET is_active = %s WHERE id = %s", [True, off.pk.hex if connection.vendor == "sqlite" else off.pk])

    _refused(activate)

    assert TriageRule.objects.get(pk=off.pk).is_active is False


@pytest.mark.parametrize("change", [{"is_active": False}, {"key": "expecting"}])
def test_a_question_an_active_rule_reads_cannot_be_deactivated_or_renamed_by_update(rule, question, change):
    _refused(lambda: TriageQuestion.objects.filter(pk=question.pk).update(**change))

    question.refresh_from_db()
    assert (question.key, question.is_active) == ("pregnant", True)


def test_a_question_no_active_rule_reads_can_be_deactivated_and_the_rule_deactivated_first_frees_it(rule, question):
    TriageRule.objects.filter(pk=rule.pk).update(is_active=False)

    TriageQuestion.objects.filter(pk=question.pk).update(is_active=False, key="expecting")

    question.refresh_from_db()
    assert (question.key, question.is_active) == ("expecting", False)


def test_on_postgresql_a_question_an_active_rule_reads_cannot_be_deleted(requires_postgres, rule, question):
    # SQLite refuses UPDATE only (its test flush is a DELETE).
    _refused(lambda: TriageQuestion.objects.filter(pk=question.pk).delete())

    assert TriageQuestion.objects.filter(pk=question.pk).exists()
