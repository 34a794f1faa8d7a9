"""The default triage table. The rows are frozen here (not imported from app code) so this
migration means the same thing forever; clinic admins edit the rules in the admin. Rules are
keyed by name: re-running adds none twice, and reversing removes only these names."""
from django.db import migrations

RED, ORANGE, YELLOW = "RED", "ORANGE", "YELLOW"

# (name, severity, priority, keyword, answer_key, operator, answer_value, min_age_months, max_age_months)
DEFAULT_RULES = [
    ("Chest pain", RED, 100, "chest pain", "", "eq", "", None, None),
    ("Chest pressure or tightness", RED, 100, "chest pressure", "", "eq", "", None, None),
    ("Chest tightness", RED, 95, "chest tightness", "", "eq", "", None, None),
    ("Trouble breathing", RED, 100, "trouble breathing", "", "eq", "", None, None),
    ("Difficulty breathing", RED, 100, "difficulty breathing", "", "eq", "", None, None),
    ("Shortness of breath", RED, 100, "shortness of breath", "", "eq", "", None, None),
    ("Cannot breathe", RED, 100, "can't breathe", "", "eq", "", None, None),
    ("Stroke", RED, 100, "stroke", "", "eq", "", None, None),
    ("Face drooping", RED, 100, "face drooping", "", "eq", "", None, None),
    ("Slurred speech", RED, 100, "slurred speech", "", "eq", "", None, None),
    ("Sudden weakness or numbness", RED, 100, "sudden weakness", "", "eq", "", None, None),
    ("Severe bleeding", RED, 100, "severe bleeding", "", "eq", "", None, None),
    ("Bleeding that will not stop", RED, 100, "bleeding that won't stop", "", "eq", "", None, None),
    ("Suicidal thoughts", RED, 100, "suicidal", "", "eq", "", None, None),
    ("Thoughts of suicide", RED, 100, "suicide", "", "eq", "", None, None),
    ("Wants to harm self", RED, 100, "kill myself", "", "eq", "", None, None),
    ("Unconscious or unresponsive", RED, 100, "unconscious", "", "eq", "", None, None),
    ("Seizure", RED, 90, "seizure", "", "eq", "", None, None),
    ("Severe allergic reaction", RED, 90, "anaphylaxis", "", "eq", "", None, None),
    ("Throat swelling", RED, 90, "throat swelling", "", "eq", "", None, None),
    ("Answered: chest pain", RED, 100, "", "chest_pain", "eq", "yes", None, None),
    ("Answered: trouble breathing", RED, 100, "", "trouble_breathing", "eq", "yes", None, None),
    ("Answered: stroke signs", RED, 100, "", "stroke_signs", "eq", "yes", None, None),
    ("Answered: severe bleeding", RED, 100, "", "severe_bleeding", "eq", "yes", None, None),
    ("Answered: suicidal thoughts", RED, 100, "", "suicidal_thoughts", "eq", "yes", None, None),
    ("Fever in an infant (12 months or younger)", ORANGE, 100, "fever", "", "eq", "", None, 12),
    ("Answered: fever in an infant", ORANGE, 100, "", "fever", "eq", "yes", None, 12),
    ("High fever", ORANGE, 90, "high fever", "", "eq", "", None, None),
    ("Temperature 39.5 C or more", ORANGE, 90, "", "temperature_c", "gte", "39.5", None, None),
    ("Severe pain", ORANGE, 90, "severe pain", "", "eq", "", None, None),
    ("Pain 8 or more out of 10", ORANGE, 90, "", "pain_scale", "gte", "8", None, None),
    ("Fever", YELLOW, 80, "fever", "", "eq", "", None, None),
    ("Answered: fever", YELLOW, 80, "", "fever", "eq", "yes", None, None),
    ("Worsening symptoms", YELLOW, 80, "worsening", "", "eq", "", None, None),
    ("Getting worse", YELLOW, 80, "getting worse", "", "eq", "", None, None),
    ("Answered: symptoms worsening", YELLOW, 80, "", "worsening", "eq", "yes", None, None),
    ("Vomiting", YELLOW, 70, "vomiting", "", "eq", "", None, None),
    ("Pain 5 or more out of 10", YELLOW, 70, "", "pain_scale", "gte", "5", None, None),
]


def load(apps, schema_editor):
    TriageRule = apps.get_model("scheduling", "TriageRule")
    for name, severity, priority, keyword, key, op, value, min_age, max_age in DEFAULT_RULES:
        TriageRule.objects.get_or_create(name=name, defaults={
            "severity": severity, "priority": priority, "symptom_keyword": keyword, "answer_key": key,
            "answer_operator": op, "answer_value": value, "min_age_months": min_age, "max_age_months": max_age,
            "note": "Default rule (data migration 0003).",
        })


def unload(apps, schema_editor):
    apps.get_model("scheduling", "TriageRule").objects.filter(name__in=[r[0] for r in DEFAULT_RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_scheduling_domain")]
    operations = [migrations.RunPython(load, unload)]
