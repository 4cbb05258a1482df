# Auto-responders (crm.automation.models_autoresponders).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('automation', '0003_workflow_rules'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('mail', '0001_email_templates'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AutoResponder',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=150, verbose_name='name')),
                ('record_type', models.CharField(max_length=100, verbose_name='record type')),
                ('order', models.PositiveIntegerField(default=100, help_text='Responders of one record type are tried in this order (lowest first); the first that matches answers.', verbose_name='order')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
                ('criteria', models.JSONField(blank=True, default=dict, verbose_name='criteria')),
                ('from_name', models.CharField(blank=True, max_length=100, verbose_name='from name')),
                ('from_email', models.EmailField(blank=True, max_length=254, verbose_name='from address')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('sender_user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='sender')),
                ('template', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='mail.emailtemplate', verbose_name='template')),
            ],
            options={
                'verbose_name': 'auto-responder',
                'verbose_name_plural': 'auto-responders',
                'ordering': ['record_type', 'order', 'id'],
            },
        ),
        migrations.CreateModel(
            name='AutoResponse',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('responder_name', models.CharField(blank=True, max_length=150, verbose_name='auto-responder')),
                ('object_id', models.BigIntegerField(verbose_name='record id')),
                ('record_repr', models.CharField(blank=True, max_length=255, verbose_name='record')),
                ('event_id', models.BigIntegerField(blank=True, null=True, verbose_name='event')),
                ('outcome', models.CharField(choices=[('pending', 'Waiting'), ('sending', 'Sending'), ('sent', 'Sent'), ('opted_out', 'Not sent: opted out'), ('no_address', 'Not sent: no e-mail address'), ('cancelled', 'Not sent: cancelled'), ('failed', 'Failed')], default='pending', max_length=12, verbose_name='outcome')),
                ('to_address', models.CharField(blank=True, max_length=254, verbose_name='to')),
                ('language', models.CharField(blank=True, max_length=10, verbose_name='language')),
                ('subject', models.CharField(blank=True, max_length=255, verbose_name='subject')),
                ('error', models.TextField(blank=True, verbose_name='error')),
                ('activity_id', models.BigIntegerField(blank=True, null=True, verbose_name='activity')),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='time')),
                ('claimed_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished')),
                ('content_type', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contenttypes.contenttype')),
                ('responder', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='responses', to='automation.autoresponder', verbose_name='auto-responder')),
            ],
            options={
                'verbose_name': 'auto-response',
                'verbose_name_plural': 'auto-responses',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.AddIndex(
            model_name='autoresponder',
            index=models.Index(fields=['record_type', 'is_active', 'order'], name='autoresponder_active'),
        ),
        migrations.AddIndex(
            model_name='autoresponse',
            index=models.Index(fields=['responder', '-created_at'], name='autoresponse_responder_time'),
        ),
        migrations.AddIndex(
            model_name='autoresponse',
            index=models.Index(fields=['created_at'], name='autoresponse_time'),
        ),
        migrations.AddIndex(
            model_name='autoresponse',
            index=models.Index(condition=models.Q(('outcome', 'pending')), fields=['next_attempt_at'], name='autoresponse_waiting'),
        ),
        migrations.AddIndex(
            model_name='autoresponse',
            index=models.Index(condition=models.Q(('outcome', 'sending')), fields=['claimed_at'], name='autoresponse_sending'),
        ),
        migrations.AddConstraint(
            model_name='autoresponse',
            constraint=models.UniqueConstraint(fields=('content_type', 'object_id'), name='uniq_autoresponse_record'),
        ),
    ]
