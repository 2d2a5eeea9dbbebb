"""
Signatures indexed by organisation and statement, in place of the index on the organisation
alone: an organisation's statements are then read from the index, without visiting rows
spread over the whole table. The new index is made before the old one goes.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0014_name_search_indexes"),
        ("statements", "0012_kept_answers_from_the_change_log"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="signature",
            index=models.Index(
                fields=["organization", "statement"], name="statements_sig_org_statement"
            ),
        ),
        migrations.AlterField(
            model_name="signature",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                help_text="Type to search by any name or acronym. Add a new organisation only "
                "if no existing one matches.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="signatures",
                to="organizations.organization",
            ),
        ),
    ]
