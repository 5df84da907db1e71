"""A migration that drops what 0001 declared: a unique constraint (with its `_like` index) and
an index. Django finds their names with its constraint introspection (`get_constraints`)."""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("django_shop", "0001_initial")]
    operations = [
        migrations.AlterField(model_name="category", name="name", field=models.CharField(max_length=50)),
        migrations.AlterField(model_name="item", name="name", field=models.CharField(max_length=100)),
    ]
