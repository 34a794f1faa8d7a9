"""The triage rules engine: a pure function over rule rows (from the database, or any objects
with the same attributes), so the table can be tested without a database."""
import datetime
from dataclasses import dataclass, field

from apps.scheduling.models import SEVERITY_RANK, Severity

EMERGENCY_INSTRUCTIONS = (
    "Your answers suggest a possible emergency. Call 911 (or your local emergency number) or go to "
    "the nearest emergency department now. Do not wait for an appointment. If you are thinking about "
    "harming yourself, call or text 988 (Suicide & Crisis Lifeline) now."
)


@dataclass(frozen=True)
class TriageResult:
    severity: str
    matched: list = field(default_factory=list)  # [{"id", "name", "severity"}], most severe first

    @property
    def is_emergency(self):
        return self.severity == Severity.RED


def age_in_months(date_of_birth, today=None):
    if date_of_birth is None:
        return None
    today = today or datetime.date.today()
    months = (today.year - date_of_birth.year) * 12 + (today.month - date_of_birth.month)
    if today.day < date_of_birth.day:
        months -= 1
    return max(months, 0)


def _norm(text):
    return " ".join(str(text).lower().split())


def _answer_matches(rule, answers):
    if not rule.answer_key:
        return True
    wanted_key = rule.answer_key.strip().lower()
    value = next((v for k, v in (answers or {}).items() if str(k).strip().lower() == wanted_key), None)
    if value is None:
        return False
    op = rule.answer_operator or "eq"
    if op in ("gte", "lte"):
        try:
            number, limit = float(value), float(rule.answer_value)
        except (TypeError, ValueError):
            return False
        return number >= limit if op == "gte" else number <= limit
    if isinstance(value, bool):
        value = "yes" if value else "no"
    given, wanted = _norm(value), _norm(rule.answer_value)
    if wanted in ("true", "yes"):
        wanted_set = {"true", "yes", "y", "1"}
    elif wanted in ("false", "no"):
        wanted_set = {"false", "no", "n", "0"}
    else:
        wanted_set = {wanted}
    if op == "contains":
        return any(w in given for w in wanted_set)
    return given in wanted_set


def rule_matches(rule, *, text, answers, age_months):
    has_condition = bool(rule.symptom_keyword or rule.answer_key or rule.min_age_months is not None or rule.max_age_months is not None)
    if not has_condition:
        return False
    if rule.symptom_keyword and _norm(rule.symptom_keyword) not in text:
        return False
    if not _answer_matches(rule, answers):
        return False
    if rule.min_age_months is not None or rule.max_age_months is not None:
        if age_months is None:
            return False
        if rule.min_age_months is not None and age_months < rule.min_age_months:
            return False
        if rule.max_age_months is not None and age_months > rule.max_age_months:
            return False
    return True


def evaluate(*, rules, symptoms=(), reason="", answers=None, age_months=None):
    """The most severe severity among matching active rules; GREEN when none match. Matching
    errs towards safety: a keyword anywhere in the symptoms or the reason counts."""
    text = " | ".join(_norm(s) for s in [*(symptoms or []), reason or ""] if s)
    matched = [
        r for r in rules
        if getattr(r, "is_active", True) and rule_matches(r, text=text, answers=answers or {}, age_months=age_months)
    ]
    matched.sort(key=lambda r: (SEVERITY_RANK[Severity(r.severity)], -r.priority, r.name))
    severity = matched[0].severity if matched else Severity.GREEN
    return TriageResult(
        severity=Severity(severity),
        matched=[{"id": str(r.id), "name": r.name, "severity": r.severity} for r in matched],
    )
