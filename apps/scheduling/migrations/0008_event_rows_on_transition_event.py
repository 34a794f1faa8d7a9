"""SlotEvent, RequestEvent and VisitEvent become subclasses of core's TransitionEvent (who,
from, to, why, data, when): the fields they lacked are added with defaults (actor_label "",
SlotEvent.data {}), the status columns widen to the base's 32 characters and SlotEvent.reason
becomes a text column like the others. Every existing row is kept as it is: columns are added
or widened in place (PostgreSQL ALTER TABLE; SQLite copies each table into its new shape,
rows included), nothing is dropped, and no value is rewritten."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('scheduling', '0007_default_triage_questions'),
    ]

    operations = [
        migrations.AddField(
            model_name='requestevent',
            name='actor_label',
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddField(
            model_name='slotevent',
            name='actor_label',
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddField(
            model_name='slotevent',
            name='data',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='visitevent',
            name='actor_label',
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AlterField(
            model_name='slotevent',
            name='from_status',
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AlterField(
            model_name='slotevent',
            name='reason',
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name='slotevent',
            name='to_status',
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AlterField(
            model_name='visitevent',
            name='from_status',
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AlterField(
            model_name='visitevent',
            name='to_status',
            field=models.CharField(blank=True, max_length=32),
        ),
    ]
