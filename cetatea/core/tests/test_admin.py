import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import reverse

from conftest import make_person


@pytest.mark.django_db
def test_every_admin_list_opens_in_romanian(client, catalog):
    make_person()
    superuser = User.objects.create_superuser("root", "root@example.ro", "correct-horse-9")
    client.force_login(superuser)
    index = client.get(reverse("admin:index")).content.decode()
    assert "Categorii" in index and "Departamente" in index
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_administrator_role_configures_the_catalogue(client, personas):
    client.force_login(personas["admin"])
    assert client.get(reverse("admin:catalog_category_changelist")).status_code == 200
    assert client.get(reverse("admin:catalog_category_add")).status_code == 200
    client.force_login(personas["operator"])
    assert client.get(reverse("admin:catalog_category_changelist")).status_code == 302
