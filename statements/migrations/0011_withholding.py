"""
The draft an other name or a former slug is known only from is kept here, in statements
(Withholding), instead of by a foreign key from organizations to statements: the rows with
a `withheld_until` get a withholding, and their `withheld` is set while the draft is not
public. Backwards, the withholdings go back into `withheld_until`.
"""

import django.db.models.deletion
import simple_history.models
import statements.models
from django.conf import settings
from django.db import migrations, models


PUBLIC = ("published", "retracted")  # Statement.PUBLIC_STATUSES


def withholdings_from_foreign_keys(apps, schema_editor):
    Withholding = apps.get_model("statements", "Withholding")
    for model_name, link in (("OtherName", "other_name"), ("FormerSlug", "former_slug")):
        model = apps.get_model("organizations", model_name)
        waiting = model.objects.filter(withheld_until__isnull=False)
        Withholding.objects.bulk_create(
            Withholding(statement_id=statement_id, **{f"{link}_id": pk})
            for pk, statement_id in waiting.values_list("pk", "withheld_until_id")
        )
        waiting.exclude(withheld_until__status__in=PUBLIC).update(withheld=True)


def foreign_keys_from_withholdings(apps, schema_editor):
    Withholding = apps.get_model("statements", "Withholding")
    for model_name, link in (("OtherName", "other_name"), ("FormerSlug", "former_slug")):
        model = apps.get_model("organizations", model_name)
        for pk, statement_id in Withholding.objects.filter(
            **{f"{link}__isnull": False}
        ).values_list(f"{link}_id", "statement_id"):
            model.objects.filter(pk=pk).update(withheld_until_id=statement_id)
        model.objects.update(withheld=False)
    Withholding.objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('organizations', '0011_withheld_flag'),
        ('statements', '0010_change_log'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalWithholding',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('former_slug', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='organizations.formerslug')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('other_name', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='organizations.othername')),
                ('statement', models.ForeignKey(blank=True, db_constraint=False, help_text='The draft it is known only from.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='statements.statement')),
            ],
            options={
                'verbose_name': 'historical withholding',
                'verbose_name_plural': 'historical withholdings',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='Withholding',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('former_slug', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='withholding', to='organizations.formerslug')),
                ('other_name', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='withholding', to='organizations.othername')),
                ('statement', models.ForeignKey(help_text='The draft it is known only from.', on_delete=statements.models._delete_what_it_withholds, related_name='withholdings', to='statements.statement')),
            ],
            options={
                'ordering': ['statement', 'id'],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('former_slug__isnull', False), ('other_name__isnull', True)), models.Q(('former_slug__isnull', True), ('other_name__isnull', False)), _connector='OR'), name='statements_withholding_one_row', violation_error_message='A withholding holds back one other name or one former slug.')],
            },
        ),
        migrations.RunPython(withholdings_from_foreign_keys, foreign_keys_from_withholdings),
    ]
