"""The citizen flow, driven with key scripts as a caller would type them."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.core.management import call_command

from cetatea.cases.models import Interaction
from cetatea.revenue.tests.screens_data import MAY_15, make_taxpayer
from cetatea.telephony.models import RobotCall, RobotLock
from cetatea.telephony.robot import identity
from cetatea.telephony.robot.engine import Collect, Dialog, Hangup, Say, Transfer, run_script
from conftest import make_cnp

pytestmark = pytest.mark.django_db

PIN = "482916"


@pytest.fixture(autouse=True)
def may_15():
    with time_machine.travel(MAY_15, tick=False):
        yield


def make_citizen():
    """A taxpayer with a CNP, a robot PIN and 510 lei due on May 15."""
    cnp = make_cnp()
    account = make_taxpayer(cnp=cnp, external_id=f"7{cnp[-6:]}")
    identity.robot_pin_set(person=account.person, pin=PIN, actor=None)
    return {"cnp": cnp, "account": account, "person": account.person}


@pytest.fixture
def citizen():
    return make_citizen()


_calls = iter(range(1, 10_000))


def call(keys: str, *, caller: str = "+40740000001", language: str = "ro"):
    dialog = Dialog(
        caller=caller,
        called="+40258000000",
        call_id=f"call-{next(_calls)}",
        channel="test",
        language=language,
    )
    actions = run_script(dialog, keys)
    words = " ".join(
        dialog.prompt_text(part)
        for action in actions
        if isinstance(action, Say)
        for part in action.parts
    )
    return dialog, actions, words


def test_taxes_owed_in_romanian(citizen):
    dialog, actions, words = call(f"1{citizen['cnp']}#{PIN}#1")
    assert "V-ați identificat" in words
    assert "Astăzi aveți de plată pentru impozite și taxe cinci sute zece lei." in words
    assert "Impozitul pe clădiri: cinci sute zece lei." in words
    assert "Din care majorări de întârziere zece lei." in words
    assert "Următoarea scadență este pe treizeci septembrie două mii douăzeci și șase" in words
    assert "cu suma de cinci sute de lei" in words
    # The caller hung up at the menu: the call is on the person's timeline.
    robot_call = RobotCall.objects.get(call_id=dialog.call_id)
    assert robot_call.identified and robot_call.options == ["taxes"]
    assert robot_call.outcome == "caller_hangup"
    interaction = Interaction.objects.get(pk=robot_call.interaction_id)
    assert interaction.person_id == citizen["person"].id
    assert interaction.channel == "robot"


def test_fines_in_english_by_taxpayer_account(citizen):
    account = citizen["account"].external_id
    _, _, words = call(f"92{account}#{PIN}#2")
    assert "You have one fine unpaid, one thousand lei in total." in words
    assert "The fine of January ten, two thousand twenty-six: one thousand lei." in words


def test_nothing_personal_before_the_pin(citizen):
    _, actions, words = call(f"1{citizen['cnp']}#")
    assert "lei" not in words and "Popescu" not in words
    assert isinstance(actions[-1], Collect) and actions[-1].name == "pin"


def test_wrong_pin_three_times_hangs_up_with_a_generic_message(citizen):
    cnp = citizen["cnp"]
    dialog, actions, words = call(f"1{cnp}#111111#1{cnp}#222222#1{cnp}#333333#")
    assert actions[-1] == Hangup("identification_failed")
    assert words.count("Datele introduse nu au putut fi verificate") == 3
    assert "lei" not in words
    assert RobotCall.objects.get(call_id=dialog.call_id).outcome == "identification_failed"


def test_unknown_identity_gets_the_same_words_as_a_wrong_pin(citizen):
    _, _, unknown = call(f"1{make_cnp()}#{PIN}#")
    _, _, wrong = call(f"1{citizen['cnp']}#999999#")
    assert unknown == wrong


def test_wrong_cnp_check_digit_is_refused_before_any_lookup(citizen):
    bad = citizen["cnp"][:-1] + str((int(citizen["cnp"][-1]) + 1) % 10)
    _, actions, words = call(f"1{bad}")
    assert "Codul numeric personal nu este valid" in words
    assert actions[-1].name == "cnp"


def test_five_failures_lock_the_identity_until_staff_unlock(citizen):
    cnp = citizen["cnp"]
    call(f"1{cnp}#111111#1{cnp}#222222#1{cnp}#333333#")
    call(f"1{cnp}#444444#1{cnp}#555555#")
    assert RobotLock.objects.filter(unlocked_at__isnull=True).count() == 1
    _, _, words = call(f"1{cnp}#{PIN}#1")  # the right PIN, but locked
    assert "lei" not in words and "Datele introduse nu au putut fi verificate" in words
    assert identity.robot_unlock(person=citizen["person"], actor=None) == 1
    _, _, words = call(f"1{cnp}#{PIN}#1")
    assert "cinci sute zece lei" in words


def test_caller_id_spraying_is_refused(citizen):
    for _ in range(4):
        call(f"1{make_cnp()}#{PIN}#1{make_cnp()}#{PIN}#1{make_cnp()}#{PIN}#", caller="+40740999999")
    _, _, words = call(f"1{citizen['cnp']}#{PIN}#1", caller="+40740999999")
    assert "lei" not in words
    _, _, words = call(f"1{citizen['cnp']}#{PIN}#1", caller="+40740000002")
    assert "cinci sute zece lei" in words


def test_operator_transfer_carries_the_identity(citizen):
    dialog, actions, _ = call(f"1{citizen['cnp']}#{PIN}#0")
    assert actions[-1] == Transfer("operators", citizen["person"].id)
    robot_call = RobotCall.objects.get(call_id=dialog.call_id)
    assert robot_call.transferred and robot_call.outcome == "transferred"
    assert robot_call.interaction_id is not None


def test_operator_before_identification_carries_no_identity(db):
    _, actions, _ = call("0")
    assert actions[-1] == Transfer("operators", None)


def test_repeat_and_back(citizen):
    _, actions, words = call(f"1{citizen['cnp']}#{PIN}#2*9")
    assert words.count("o mie de lei") >= 4  # said, then repeated by 9
    assert isinstance(actions[-1], Collect) and actions[-1].name == "menu"


def test_silence_three_times_says_goodbye(db):
    _, actions, words = call("___")
    assert actions[-1] == Hangup("no_input")
    assert "La revedere" in words


@pytest.fixture
def petition(citizen, catalog):
    from cetatea.catalog.models import Category
    from cetatea.registry.models import DocumentType, RegistryPoint
    from cetatea.registry.services import registry_entry_register

    Category.objects.create(
        code="OTHER",
        name_ro="Altele",
        name_en="Other",
        department=catalog["public"],
        target_hours=720,
        regime="petition",
    )
    call_command("load_registry", stdout=io.StringIO())
    RegistryPoint.objects.filter(code="rg").update(department=catalog["public"])
    DocumentType.objects.filter(code="petitie").update(
        case_category=Category.objects.get(code="OTHER")
    )
    return registry_entry_register(
        point=RegistryPoint.objects.get(code="rg"),
        doc_type=DocumentType.objects.get(code="petitie"),
        summary="Cerere privind repararea trotuarului de pe str. Trandafirilor",
        sender_name="Popescu Ion",
        sender_address="Str. Moților 12, Alba Iulia",
        person=citizen["person"],
        department=catalog["public"],
    )


def test_petition_status_of_the_callers_own_entry(citizen, petition):
    _, _, words = call(f"1{citizen['cnp']}#{PIN}#3{petition.number}#")
    assert "este în lucru" in words
    assert "Este la Relații cu publicul." in words
    assert "Termenul de răspuns este" in words


def test_someone_elses_petition_is_not_found(citizen, petition):
    other = make_taxpayer(external_id="4455667")
    identity.robot_pin_set(person=other.person, pin=PIN, actor=None)
    _, _, words = call(f"2{other.external_id}#{PIN}#3{petition.number}#")
    assert "Nu am găsit o petiție a dumneavoastră" in words
    assert "în lucru" not in words
