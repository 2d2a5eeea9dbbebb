"""
The co-signing table keeps only how often each pair shared a public statement: the first and
last dates are read for the co-signers shown (statements.cosigning), so that re-dating or
unpublishing a statement no longer recomputes the dates of all its pairs.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0009_former_slug_withheld_until"),
    ]

    operations = [
        migrations.RemoveField(model_name="cosigning", name="first_shared_on"),
        migrations.RemoveField(model_name="cosigning", name="last_shared_on"),
    ]
