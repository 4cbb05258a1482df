from django.db import migrations, models


class Migration(migrations.Migration):
    """Workflow e-mails are claimed ("sending") and committed before they leave, so a killed worker never sends
    one twice."""

    dependencies = [("automation", "0005_escalations")]

    operations = [
        migrations.AlterField(
            model_name="actionrun",
            name="status",
            field=models.CharField(choices=[("pending", "Waiting"), ("sending", "Sending"), ("succeeded", "Succeeded"),
                                            ("skipped", "Skipped"), ("failed", "Failed")],
                                   default="pending", max_length=10, verbose_name="status"),
        ),
    ]
