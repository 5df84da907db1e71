"""The app's first migration, as `makemigrations` writes it for models.py."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Category",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=50, unique=True)),
            ],
        ),
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(db_index=True, max_length=100)),
                ("price", models.DecimalField(decimal_places=2, default=0, max_digits=10)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("data", models.JSONField(null=True)),
                ("category", models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, to="django_shop.category")),
                ("stock", models.PositiveIntegerField(default=0)),
            ],
        ),
    ]
