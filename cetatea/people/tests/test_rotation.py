import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from cetatea.core import crypto
from cetatea.people.models import Person
from conftest import make_cnp, make_person


@pytest.mark.django_db
def test_key_rotation_reencrypts_with_the_new_key(settings):
    cnp = make_cnp()
    person = make_person(national_id=cnp)
    old_key = settings.NATIONAL_ID_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.NATIONAL_ID_KEYS = [new_key, old_key]
    call_command("rotate_national_id_keys", verbosity=0)
    token = Person.objects.get(pk=person.pk).national_id_encrypted
    assert Fernet(new_key.encode()).decrypt(token.encode()).decode() == cnp
    assert crypto.decrypt(token) == cnp
