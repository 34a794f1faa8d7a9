"""The portal's yes/no triage questions, as they were hard-coded in portal_forms.py until now:
same keys and texts, so the default rules of 0003 read the same answers. Frozen here (not
imported from app code); clinic admins edit them under Triage questions. Keyed by `key`:
re-running adds none twice, and reversing removes only these keys."""
from django.db import migrations

# (key, text, is_emergency, order)
DEFAULT_QUESTIONS = [
    ("chest_pain", "Do you have chest pain, pressure or tightness right now?", True, 10),
    ("trouble_breathing", "Are you having trouble breathing or shortness of breath?", True, 20),
    ("stroke_signs", "Face drooping, arm or leg weakness, slurred speech or sudden confusion?", True, 30),
    ("severe_bleeding", "Is there heavy bleeding, or bleeding that will not stop?", True, 40),
    ("suicidal_thoughts", "Are you having thoughts of harming yourself?", True, 50),
    ("fever", "Do you have a fever?", False, 110),
    ("worsening", "Are your symptoms getting worse?", False, 120),
]


def load(apps, schema_editor):
    TriageQuestion = apps.get_model("scheduling", "TriageQuestion")
    for key, text, is_emergency, order in DEFAULT_QUESTIONS:
        TriageQuestion.objects.get_or_create(key=key, defaults={
            "text": text, "kind": "YES_NO", "is_emergency": is_emergency, "order": order, "is_active": True,
        })


def unload(apps, schema_editor):
    apps.get_model("scheduling", "TriageQuestion").objects.filter(key__in=[q[0] for q in DEFAULT_QUESTIONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0006_triagequestion")]
    operations = [migrations.RunPython(load, unload)]
