"""SlotEvent.retirement: the marker of slot generation's own blocks (services/slots.py), in
place of recognising them by their reason text. Existing events that generation wrote (its
reason, written by no one: actor NULL and no actor label) get the marker; a block by staff or
an API key with the same words does not."""
from django.db import migrations, models

RETIRED_REASON = "No longer in the provider's availability"


def mark_generation_blocks(apps, schema_editor):
    SlotEvent = apps.get_model("scheduling", "SlotEvent")
    SlotEvent.objects.filter(
        reason=RETIRED_REASON, to_status="BLOCKED", actor__isnull=True, actor_label="",
    ).update(retirement=True)


class Migration(migrations.Migration):

    dependencies = [
        ('scheduling', '0009_idempotency_records'),
    ]

    operations = [
        migrations.AddField(
            model_name='slotevent',
            name='retirement',
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(mark_generation_blocks, migrations.RunPython.noop),
    ]
