"""Fewer indexes on the access log, which every audited read inserts into: 12 -> 6.

Kept: the primary key, at, patient_id, (actor_user, -at), and new (actor_api_key, -at) and a
plain request_id index (its varchar_pattern_ops twin served no query). Dropped: action and
object_id (each with a LIKE twin) and the two single-column foreign-key indexes, which the
composite indexes cover. The new indexes are created before the old ones go. The append-only
trigger (0002) is untouched."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('audit', '0002_append_only_trigger'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='accesslog',
            index=models.Index(fields=['actor_api_key', '-at'], name='audit_accesslog_key_at_idx'),
        ),
        migrations.AddIndex(
            model_name='accesslog',
            index=models.Index(fields=['request_id'], name='audit_accesslog_request_idx'),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='action',
            field=models.CharField(choices=[('read', 'Read'), ('create', 'Create'), ('update', 'Update'), ('delete', 'Delete'), ('login', 'Login'), ('login_failed', 'Login failed'), ('logout', 'Logout'), ('export', 'Export')], max_length=16),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='actor_api_key',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.apikey'),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='actor_user',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='object_id',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='request_id',
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
