"""Duplicate groups, step 3 of 3: every review has its group (0005), and a newcomer has at
most one OPEN review."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("patients", "0005_duplicate_pairs_to_groups")]

    operations = [
        migrations.AlterField(
            model_name='duplicatereview',
            name='group',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reviews', to='patients.duplicategroup'),
        ),
        migrations.AddIndex(
            model_name='duplicatereview',
            index=models.Index(fields=['group', 'status'], name='dup_review_group_status_idx'),
        ),
        migrations.AddConstraint(
            model_name='duplicatereview',
            constraint=models.UniqueConstraint(condition=models.Q(('registration__isnull', False), ('status', 'open')), fields=('registration',), name='duplicate_review_one_open_per_registration'),
        ),
        migrations.AddConstraint(
            model_name='duplicatereview',
            constraint=models.UniqueConstraint(condition=models.Q(('other__isnull', False), ('status', 'open')), fields=('other',), name='duplicate_review_one_open_per_record'),
        ),
    ]
