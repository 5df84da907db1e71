"""A small Django app for the client suite: a foreign key, JSON, a CHECK constraint
(PositiveIntegerField); its names were unique and indexed until migration 0002."""
from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=50)


class Item(models.Model):
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    created = models.DateTimeField(auto_now_add=True)
    data = models.JSONField(null=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True)
    stock = models.PositiveIntegerField(default=0)
