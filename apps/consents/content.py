"""The shape of a consent template's text, checked once for the admin, the API and publishing:

    sections = [{"title": "The procedure", "clauses": [{"key": "risks", "text": "..."}, ...]}, ...]
    checks = [{"key": "fasting", "question": "...", "choices": ["...", "..."], "answer": "...",
               "explanation": "..."}, ...]

Keys are unique within a template: the patient's acknowledgements and answers are stored by key."""
import re

from apps.core.exceptions import ValidationFailed

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
MAX_SECTIONS, MAX_CLAUSES, MAX_CHECKS, MAX_CHOICES = 30, 200, 30, 8
MAX_TEXT = 8000


def _text(value, limit=MAX_TEXT):
    return isinstance(value, str) and value.strip() != "" and len(value) <= limit and "\x00" not in value


def content_problems(sections, checks):
    """Field errors ({"sections": [...], "checks": [...]}) of a template's content; {} when valid."""
    problems = {"sections": [], "checks": []}
    keys = set()
    if not isinstance(sections, list) or not sections:
        problems["sections"].append("At least one section with clauses is needed.")
        sections = []
    if len(sections) > MAX_SECTIONS:
        problems["sections"].append(f"At most {MAX_SECTIONS} sections.")
    clause_count = 0
    for i, section in enumerate(sections, 1):
        if not isinstance(section, dict) or not _text(section.get("title"), 200):
            problems["sections"].append(f"Section {i} needs a title (up to 200 characters).")
            continue
        clauses = section.get("clauses")
        if not isinstance(clauses, list) or not clauses:
            problems["sections"].append(f"Section {i} needs at least one clause.")
            continue
        for j, clause in enumerate(clauses, 1):
            clause_count += 1
            if not isinstance(clause, dict) or not _text(clause.get("text")):
                problems["sections"].append(f"Clause {i}.{j} needs its text.")
                continue
            key = clause.get("key")
            if not isinstance(key, str) or not KEY_RE.match(key):
                problems["sections"].append(f"Clause {i}.{j} needs a key (lower-case letters, digits, - and _).")
            elif key in keys:
                problems["sections"].append(f"Clause {i}.{j}: the key '{key}' is used twice.")
            else:
                keys.add(key)
    if clause_count > MAX_CLAUSES:
        problems["sections"].append(f"At most {MAX_CLAUSES} clauses.")
    if not isinstance(checks, list):
        problems["checks"].append("Understanding checks are a list.")
        checks = []
    if len(checks) > MAX_CHECKS:
        problems["checks"].append(f"At most {MAX_CHECKS} understanding checks.")
    for i, check in enumerate(checks, 1):
        if not isinstance(check, dict):
            problems["checks"].append(f"Check {i} is not valid.")
            continue
        key = check.get("key")
        if not isinstance(key, str) or not KEY_RE.match(key):
            problems["checks"].append(f"Check {i} needs a key (lower-case letters, digits, - and _).")
        elif key in keys:
            problems["checks"].append(f"Check {i}: the key '{key}' is used twice.")
        else:
            keys.add(key)
        choices = check.get("choices")
        if not _text(check.get("question"), 500):
            problems["checks"].append(f"Check {i} needs its question (up to 500 characters).")
        if (not isinstance(choices, list) or not 2 <= len(choices) <= MAX_CHOICES
                or not all(_text(c, 300) for c in choices) or len(set(choices)) != len(choices)):
            problems["checks"].append(f"Check {i} needs 2 to {MAX_CHOICES} different choices.")
        elif check.get("answer") not in choices:
            problems["checks"].append(f"Check {i}: the correct answer must be one of its choices.")
        if not _text(check.get("explanation"), 1000):
            problems["checks"].append(f"Check {i} needs the explanation shown after a wrong answer.")
    return {name: messages for name, messages in problems.items() if messages}


def validate_content(sections, checks):
    problems = content_problems(sections, checks)
    if problems:
        raise ValidationFailed(problems)


def wrong_answers(template, answers):
    """The checks answered wrongly or not at all: [{"key", "question", "explanation"}]."""
    answers = answers or {}
    return [{"key": c["key"], "question": c["question"], "explanation": c["explanation"]}
            for c in template.checks if answers.get(c["key"]) != c["answer"]]
