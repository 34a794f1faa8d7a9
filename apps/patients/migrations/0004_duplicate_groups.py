"""Duplicate review per person, not per pair, step 1 of 3: DuplicateGroup (the records that
may be one person) and DuplicateGroupMember (a record in a group, one group at most); each
review gets a group (0005 fills it from the pair rows, 0006 makes it required and allows one
OPEN review per newcomer)."""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0003_transition_events'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DuplicateGroup',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('flagged_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'ordering': ['created_at'],
            },
        ),
        migrations.CreateModel(
            name='DuplicateGroupMember',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('joined_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'ordering': ['joined_at', 'id'],
            },
        ),
        migrations.AddField(
            model_name='duplicatereview',
            name='group',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reviews', to='patients.duplicategroup'),
        ),
        migrations.AddField(
            model_name='duplicategroupmember',
            name='group',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='members', to='patients.duplicategroup'),
        ),
        migrations.AddField(
            model_name='duplicategroupmember',
            name='patient',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='duplicate_membership', to='patients.patient'),
        ),
        migrations.AddIndex(
            model_name='duplicategroupmember',
            index=models.Index(fields=['group', 'joined_at'], name='dup_member_group_idx'),
        ),
    ]
