"""The citizen flow: identify the caller (CNP or taxpayer account, then a PIN), then
a menu of taxes owed, unpaid fines, petition status, operator and repeat.

Plain code a city can change: the menu is the ``MENU`` table (key -> handler), the
wording is in prompts.py. Nothing personal is said before the PIN is verified, and a
failure always gets the same words. The flow's state is a small JSON dict stored on
the call's `RobotCall` after every step, so a transport that keeps no state between
requests (the HTTP callback) resumes it by call id.
"""

from __future__ import annotations

from django.conf import settings

from cetatea.telephony.models import RobotCall
from cetatea.telephony.robot import identity, services, spoken
from cetatea.telephony.robot.engine import BACK, Action, Collect, Hangup, Say, Transfer
from cetatea.telephony.robot.prompts import ENTRY_STATUSES, TAX_NAMES, label, prompt

MAX_FAILURES = 3  # wrong identifications per call, then hang up
MAX_MISSES = 3  # unanswered or wrong menu choices in a row, then hang up
OPERATOR_QUEUE = "operators"


class CitizenFlow:
    """One call's conversation with a citizen; ``dialog`` gives the call's identity."""

    def __init__(self, dialog) -> None:
        self.dialog = dialog
        self.call = RobotCall.objects.filter(call_id=dialog.call_id[:250]).first()
        self.state: dict = dict(self.call.state) if self.call and self.call.state else {}
        if "language" in self.state:
            dialog.language = self.state["language"]

    # --- the Flow protocol -----------------------------------------------------------

    def start(self) -> list[Action]:
        self.call = services.robot_call_start(
            call_id=self.dialog.call_id, transport=self.dialog.channel, caller=self.dialog.caller
        )
        self.state = {"language": self.dialog.language, "failures": 0, "misses": 0}
        return self._step(self._welcome(greet=True))

    def digits(self, name: str, value: str, *, timed_out: bool) -> list[Action]:
        if self.call is None or self.call.ended_at is not None:
            return [Hangup("no_call")]
        handler = {
            "id_kind": self._on_id_kind,
            "cnp": self._on_cnp,
            "account": self._on_account,
            "pin": self._on_pin,
            "menu": self._on_menu,
            "petition": self._on_petition,
        }.get(name)
        if handler is None or name != self.state.get("expect"):
            return self._step(self._repeat_expected())
        if name in {"menu", "petition"} and not self.state.get("person_id"):
            return self._step(self._welcome(greet=False))  # never reached without a PIN
        if value == "" and timed_out or value == "" and name in {"id_kind", "menu"}:
            return self._step(self._missed("no_input"))
        return self._step(handler(value))

    def hangup(self) -> None:
        if self.call is None or self.call.ended_at is not None:
            return
        self._save()
        services.robot_call_end(call=self.call, outcome="caller_hangup")

    # --- steps -----------------------------------------------------------------------

    @property
    def lang(self) -> str:
        return self.dialog.language

    def _text(self, key: str, **values: str) -> str:
        return "text:" + prompt(key, self.lang, **values)

    def _welcome(self, *, greet: bool) -> list[Action]:
        self.state.pop("claim", None)
        parts = ("greeting",) if greet else ()
        parts += ("choose_language", "choose_identification")
        return self._ask(parts, Collect("id_kind", 1, 1, terminator=""))

    def _menu(self, before: tuple[str, ...] = ()) -> list[Action]:
        return self._ask(before + ("menu",), Collect("menu", 1, 1, terminator=""))

    def _ask(self, parts: tuple[str, ...], collect: Collect) -> list[Action]:
        self.state["expect"] = collect.name
        self.state["ask"] = [list(parts), collect.name]
        return [Say(parts), collect]

    def _repeat_expected(self) -> list[Action]:
        expect = self.state.get("expect")
        if expect == "menu" and self.state.get("person_id"):
            return self._menu()
        return self._welcome(greet=False)

    def _missed(self, key: str) -> list[Action]:
        self.state["misses"] = self.state.get("misses", 0) + 1
        if self.state["misses"] >= MAX_MISSES:
            return self._end(("goodbye",), "no_input")
        if self.state.get("expect") == "menu":
            return self._menu((key,))
        if self.state.get("expect") == "id_kind":
            return self._ask(
                (key, "choose_identification"), Collect("id_kind", 1, 1, terminator="")
            )
        parts, name = self.state["ask"]
        return self._ask((key, *parts), COLLECTS[name])

    def _on_id_kind(self, value: str) -> list[Action]:
        self.state["misses"] = 0
        if value in {"8", "9"}:
            self.dialog.language = self.state["language"] = "en" if value == "9" else "ro"
            return self._welcome(greet=False)
        if value == "1":
            return self._ask(("enter_cnp",), COLLECTS["cnp"])
        if value == "2":
            return self._ask(("enter_account",), COLLECTS["account"])
        if value == "0":
            return self._transfer()
        if value == BACK:
            return self._welcome(greet=False)
        return self._missed("invalid_choice")

    def _on_cnp(self, value: str) -> list[Action]:
        if value == BACK:
            return self._welcome(greet=False)
        if not identity.cnp_is_valid(value):
            return self._failed(("cnp_invalid",), retry=("enter_cnp", "cnp"))
        return self._claimed(identity.claim(identity.CNP, value))

    def _on_account(self, value: str) -> list[Action]:
        if value == BACK:
            return self._welcome(greet=False)
        if not value.isdigit():
            return self._missed("invalid_choice")
        return self._claimed(identity.claim(identity.ACCOUNT, value))

    def _claimed(self, claim: identity.Claim) -> list[Action]:
        self.state["claim"] = [claim.identity_hash, claim.person_id]
        return self._ask(("enter_pin",), COLLECTS["pin"])

    def _on_pin(self, value: str) -> list[Action]:
        claim = self.state.pop("claim", None)
        if value == BACK or claim is None:
            return self._welcome(greet=False)
        person_id = identity.verify(
            identity.Claim(claim[0], claim[1]),
            value,
            caller=self.dialog.caller,
            call_id=self.dialog.call_id,
        )
        if person_id is None:
            return self._failed(("identification_failed",), retry=None)
        self.state["person_id"] = person_id
        self.state["misses"] = 0
        self.call.person_id = person_id
        self.call.identified = True
        return self._menu(("identified",))

    def _failed(self, parts: tuple[str, ...], *, retry) -> list[Action]:
        self.state["failures"] = self.state.get("failures", 0) + 1
        if self.state["failures"] >= MAX_FAILURES:
            return self._end(parts + ("too_many_attempts",), "identification_failed")
        if retry is not None:
            key, name = retry
            return self._ask(parts + (key,), COLLECTS[name])
        self.state.pop("claim", None)
        return self._ask(
            parts + ("choose_identification",), Collect("id_kind", 1, 1, terminator="")
        )

    def _on_menu(self, value: str) -> list[Action]:
        handler = MENU.get(value)
        if handler is None:
            if value == BACK:
                return self._menu()
            return self._missed("invalid_choice")
        self.state["misses"] = 0
        return handler(self)

    def _option(self, name: str) -> None:
        self.call.options = [*self.call.options, name]

    def _info(self, parts: list[str]) -> list[Action]:
        self.state["last"] = parts
        return self._menu(tuple(parts))

    def menu_taxes(self) -> list[Action]:
        self._option("taxes")
        summary = services.taxes_owed(self.state["person_id"])
        if summary.accounts == 0:
            return self._info([self._text("accounts_none")])
        money = lambda value: spoken.amount(value, self.lang)  # noqa: E731
        parts = ["taxes_heading"]
        if summary.due_today:
            parts.append(self._text("taxes_due_today", amount=money(summary.due_today)))
            for tax, value in sorted(summary.by_type.items()):
                parts.append(
                    self._text(
                        "taxes_type", tax=label(TAX_NAMES, tax, self.lang), amount=money(value)
                    )
                )
            if summary.late_charges:
                parts.append(self._text("taxes_late_charges", amount=money(summary.late_charges)))
        elif summary.next_due_date is None:
            parts.append(self._text("taxes_none"))
        else:
            parts.append(self._text("taxes_nothing_today"))
        if summary.next_due_date is not None:
            parts.append(
                self._text(
                    "taxes_next",
                    date=spoken.date(summary.next_due_date, self.lang),
                    amount=money(summary.next_due_amount),
                )
            )
        return self._info(parts)

    def menu_fines(self) -> list[Action]:
        self._option("fines")
        summary = services.fines_unpaid(self.state["person_id"])
        if not summary.count:
            return self._info(["fines_heading", self._text("fines_none")])
        if self.lang == "en":
            count = (
                f"{spoken.number_words_en(summary.count)} fine{'s' if summary.count > 1 else ''}"
            )
        else:
            count = spoken.count_words(summary.count, "amendă", "amenzi", spoken.FEMININE)
        parts = [
            "fines_heading",
            self._text(
                "fines_summary", count=count, amount=spoken.amount(summary.total, self.lang)
            ),
        ]
        for day, value in summary.items:
            parts.append(
                self._text(
                    "fines_item",
                    date=spoken.date(day, self.lang),
                    amount=spoken.amount(value, self.lang),
                )
            )
        return self._info(parts)

    def menu_petition(self) -> list[Action]:
        return self._ask(("enter_petition",), COLLECTS["petition"])

    def _on_petition(self, value: str) -> list[Action]:
        if value == BACK or not value.isdigit():
            return self._menu()
        self._option("petition")
        entry = services.petition_for(self.state["person_id"], int(value))
        if entry is None:
            return self._info(["petition_heading", self._text("petition_not_found")])
        number = (
            spoken.number_words_en(int(value))
            if self.lang == "en"
            else spoken.number_words(int(value))
        )
        parts = [
            "petition_heading",
            self._text(
                "petition_status",
                number=number,
                status=label(ENTRY_STATUSES, entry.status, self.lang),
            ),
        ]
        if entry.department is not None:
            name = entry.department.name_en if self.lang == "en" else entry.department.name_ro
            parts.append(
                self._text("petition_department", department=name or entry.department.name_ro)
            )
        if entry.status == "open" and entry.due_date is not None:
            parts.append(self._text("petition_term", date=spoken.date(entry.due_date, self.lang)))
        return self._info(parts)

    def menu_operator(self) -> list[Action]:
        self._option("operator")
        return self._transfer()

    def menu_repeat(self) -> list[Action]:
        return self._menu(tuple(self.state.get("last", ())))

    def _transfer(self) -> list[Action]:
        self.call.transferred = True
        person_id = self.state.get("person_id")
        self._close("transferred")
        return [Say(("transfer",), bargein=False), Transfer(OPERATOR_QUEUE, person_id)]

    def transfer_failed(self) -> list[Action]:
        """The transport could not reach an operator: say so, with a number to call."""
        if self.call is None:
            return []
        services.robot_transfer_failed(call=self.call)
        parts: list[str] = ["transfer_failed"]
        if settings.CETATEA_STATUS_PHONE:
            number = spoken.digits(settings.CETATEA_STATUS_PHONE, self.lang)
            parts.append(self._text("call_us_at", number=number))
        parts.append("goodbye")
        return [Say(tuple(parts), bargein=False), Hangup("transfer_failed")]

    def _end(self, parts: tuple[str, ...], reason: str) -> list[Action]:
        self._close(reason)
        return [Say(parts, bargein=False), Hangup(reason)]

    # --- persistence -----------------------------------------------------------------

    def _step(self, actions: list[Action]) -> list[Action]:
        if self.call is not None and self.call.ended_at is None:
            self._save()
        return actions

    def _save(self) -> None:
        self.call.language = self.lang
        self.call.state = self.state
        self.call.save(
            update_fields=["state", "language", "person", "identified", "transferred", "options"]
        )

    def _close(self, outcome: str) -> None:
        self.call.language = self.lang
        services.robot_call_end(call=self.call, outcome=outcome)


COLLECTS = {
    "cnp": Collect("cnp", 13, 13),
    "account": Collect("account", 1, 20),
    "pin": Collect("pin", identity.PIN_MIN_DIGITS, identity.PIN_MAX_DIGITS),
    "petition": Collect("petition", 1, 9),
}

# The main menu: key -> what it does. A city reorders its menu here (and in prompts.py).
MENU = {
    "1": CitizenFlow.menu_taxes,
    "2": CitizenFlow.menu_fines,
    "3": CitizenFlow.menu_petition,
    "0": CitizenFlow.menu_operator,
    "9": CitizenFlow.menu_repeat,
}
