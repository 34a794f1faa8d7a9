from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0004_slot_search_indexes")]

    operations = [
        migrations.AddField(
            model_name="visit",
            name="confirmed_at",
            field=models.DateTimeField(
                blank=True, null=True,
                help_text="When the patient confirmed this time (two-way SMS C/YES); cleared by a reschedule.",
            ),
        ),
    ]
