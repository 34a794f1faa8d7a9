"""ThreadEvent becomes a subclass of core's TransitionEvent (who, from, to, why, data, when):
created_at is renamed to the base's `at` (a column rename: every value stays), reason becomes
the base's text column, the status columns widen to 32 characters and the base's `data` is
added with {} for the existing rows. Every existing row is kept as it is: nothing is dropped
and no value is rewritten (PostgreSQL alters the table in place; SQLite copies it into its new
shape, rows included)."""
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0006_scheduling_message_templates'),
    ]

    operations = [
        migrations.RenameField(
            model_name='threadevent',
            old_name='created_at',
            new_name='at',
        ),
        migrations.AlterModelOptions(
            name='threadevent',
            options={'ordering': ['at', 'id']},
        ),
        migrations.AlterField(
            model_name='threadevent',
            name='at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name='threadevent',
            name='reason',
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name='threadevent',
            name='from_status',
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AlterField(
            model_name='threadevent',
            name='to_status',
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name='threadevent',
            name='data',
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
