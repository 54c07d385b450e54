"""The dialog engine's digit collection rules (no database, no telephony)."""

from __future__ import annotations

from cetatea.telephony.robot.engine import Collect, Collected, DigitCollector

CNP = Collect("cnp", 13, 13)
PIN = Collect("pin", 6, 12)
MENU = Collect("menu", 1, 1, terminator="")


def collect(collector, spec, now=0.0):
    collector.start(spec, now)
    return collector.poll(now)


def typed(collector, keys, now=0.0):
    for key in keys:
        collector.feed(key, now)


def test_type_ahead_during_a_prompt_counts():
    c = DigitCollector()
    typed(c, "123456#")  # typed while the prompt played
    assert collect(c, PIN) == Collected("pin", "123456", False)


def test_terminator_right_after_a_full_length_entry_is_swallowed():
    c = DigitCollector()
    typed(c, "1630615123457#123456#")
    assert collect(c, CNP) == Collected("cnp", "1630615123457", False)
    assert collect(c, PIN) == Collected("pin", "123456", False)


def test_terminator_swallowed_when_it_arrives_after_the_next_collect_started():
    c = DigitCollector()
    typed(c, "1630615123457")
    assert collect(c, CNP).value == "1630615123457"
    assert collect(c, PIN, now=1.0) is None
    typed(c, "#123456#", now=1.2)
    assert c.poll(1.2) == Collected("pin", "123456", False)


def test_only_a_terminator_is_swallowed():
    c = DigitCollector()
    typed(c, "16306151234571234567#")
    assert collect(c, CNP).value == "1630615123457"
    assert collect(c, PIN).value == "1234567"


def test_first_timeout_gives_an_empty_timed_out_entry():
    c = DigitCollector()
    assert collect(c, PIN, now=10.0) is None
    assert c.deadline() == 16.0
    assert c.poll(15.9) is None
    assert c.poll(16.0) == Collected("pin", "", True)
    assert c.active is None


def test_interdigit_timeout_returns_what_was_typed():
    c = DigitCollector()
    collect(c, PIN, now=0.0)
    typed(c, "1234", now=1.0)
    assert c.poll(1.0) is None
    assert c.deadline() == 4.0
    assert c.poll(4.0) == Collected("pin", "1234", True)


def test_star_cancels_the_entry_being_typed():
    c = DigitCollector()
    typed(c, "999*123456#")
    assert collect(c, PIN).value == "123456"


def test_star_on_an_empty_entry_means_back():
    c = DigitCollector()
    typed(c, "*")
    assert collect(c, PIN) == Collected("pin", "*", False)
    typed(c, "*")
    assert collect(c, MENU).value == "*"


def test_lone_terminator_ends_an_empty_entry():
    c = DigitCollector()
    typed(c, "#")
    assert collect(c, PIN) == Collected("pin", "", False)


def test_hash_is_a_key_for_a_menu_without_terminator():
    c = DigitCollector()
    typed(c, "#")
    assert collect(c, MENU).value == "#"


def test_keys_left_over_stay_for_the_next_collect():
    c = DigitCollector()
    typed(c, "13")
    assert collect(c, MENU).value == "1"
    assert c.pending()
    assert collect(c, MENU).value == "3"
    assert not c.pending()


def test_repeated_digits_are_kept():
    c = DigitCollector()
    typed(c, "100200#")
    assert collect(c, PIN).value == "100200"


def test_unknown_keys_are_ignored_and_clear_drops_type_ahead():
    c = DigitCollector()
    typed(c, "x1")
    c.clear()
    typed(c, "2")
    assert collect(c, MENU).value == "2"
