"""What the phone robot says, in Romanian (the default) and English.

Prompts are data, not gettext: a city changes the wording here (or records a file
per key that replaces the synthesised one) without touching the flows or transports.
Keys are stable: the audio cache and recorded files are named by them. Texts with
``{placeholders}`` are filled by the flow and spoken as ``text:`` parts, except
``{institution}`` (settings.CETATEA_INSTITUTION_NAME), filled wherever it appears.
"""

from __future__ import annotations

from django.conf import settings

PROMPTS: dict[str, dict[str, str]] = {
    "greeting": {
        "ro": "Bună ziua. Ați sunat la {institution}, serviciul telefonic automat.",
        "en": "Hello. You have reached {institution}, automated phone service.",
    },
    "choose_language": {
        "ro": "For English, press 9.",
        "en": "Pentru limba română, apăsați 8.",
    },
    "choose_identification": {
        "ro": (
            "Pentru identificare cu codul numeric personal, apăsați 1. "
            "Pentru identificare cu numărul de rol fiscal, apăsați 2. "
            "Pentru un operator, apăsați 0."
        ),
        "en": (
            "To identify with your personal numeric code, press 1. "
            "To identify with your taxpayer account number, press 2. "
            "For an operator, press 0."
        ),
    },
    "enter_cnp": {
        "ro": "Introduceți codul numeric personal, cele treisprezece cifre.",
        "en": "Enter your personal numeric code, all thirteen digits.",
    },
    "enter_account": {
        "ro": "Introduceți numărul de rol fiscal, apoi tasta diez.",
        "en": "Enter your taxpayer account number, then the hash key.",
    },
    "enter_pin": {
        "ro": "Introduceți codul PIN, apoi tasta diez.",
        "en": "Enter your PIN, then the hash key.",
    },
    "cnp_invalid": {
        "ro": "Codul numeric personal nu este valid.",
        "en": "That personal numeric code is not valid.",
    },
    "identification_failed": {
        "ro": (
            "Datele introduse nu au putut fi verificate. Dacă nu aveți un cod PIN "
            "sau accesul este blocat, vă rugăm să cereți ajutorul unui operator."
        ),
        "en": (
            "The details you entered could not be verified. If you have no PIN or "
            "your access is locked, please ask an operator for help."
        ),
    },
    "too_many_attempts": {
        "ro": "Ați depășit numărul de încercări. La revedere.",
        "en": "Too many attempts. Goodbye.",
    },
    "identified": {
        "ro": "V-ați identificat.",
        "en": "You are identified.",
    },
    "menu": {
        "ro": (
            "Pentru impozitele și taxele de plată, apăsați 1. "
            "Pentru amenzile neplătite, apăsați 2. "
            "Pentru stadiul unei petiții, apăsați 3. "
            "Pentru un operator, apăsați 0. "
            "Pentru a asculta din nou, apăsați 9."
        ),
        "en": (
            "For taxes owed, press 1. "
            "For unpaid fines, press 2. "
            "For the status of a petition, press 3. "
            "For an operator, press 0. "
            "To hear this again, press 9."
        ),
    },
    "invalid_choice": {
        "ro": "Opțiune greșită.",
        "en": "That is not an option.",
    },
    "no_input": {
        "ro": "Nu am primit nicio tastă.",
        "en": "No key was pressed.",
    },
    "goodbye": {
        "ro": "Vă mulțumim pentru apel. La revedere.",
        "en": "Thank you for calling. Goodbye.",
    },
    # Each answer opens with its heading: a fixed prompt, ready at once, which plays
    # while the sentence with the caller's own figures is synthesised.
    "taxes_heading": {"ro": "Impozite și taxe locale.", "en": "Local taxes."},
    "fines_heading": {"ro": "Amenzi.", "en": "Fines."},
    "petition_heading": {"ro": "Situația petiției.", "en": "Petition status."},
    "transfer_failed": {
        "ro": (
            "Ne pare rău, niciun operator nu poate prelua apelul acum. "
            "Vă rugăm să reveniți mai târziu."
        ),
        "en": "We are sorry, no operator can take your call now. Please call again later.",
    },
    "call_us_at": {
        "ro": "Ne puteți suna și la numărul {number}.",
        "en": "You can also call us at {number}.",
    },
    "transfer": {
        "ro": "Vă transferăm la un operator. Vă rugăm să așteptați.",
        "en": "Transferring you to an operator. Please hold.",
    },
    "taxes_none": {
        "ro": "Nu aveți impozite sau taxe de plată.",
        "en": "You have no taxes to pay.",
    },
    "taxes_due_today": {
        "ro": "Astăzi aveți de plată pentru impozite și taxe {amount}.",
        "en": "Today you owe {amount} in taxes.",
    },
    "taxes_nothing_today": {
        "ro": "Astăzi nu aveți impozite sau taxe restante.",
        "en": "You have no overdue taxes today.",
    },
    "taxes_type": {
        "ro": "{tax}: {amount}.",
        "en": "{tax}: {amount}.",
    },
    "taxes_late_charges": {
        "ro": "Din care majorări de întârziere {amount}.",
        "en": "Of which late payment charges: {amount}.",
    },
    "taxes_next": {
        "ro": "Următoarea scadență este pe {date}, cu suma de {amount}.",
        "en": "The next payment is due on {date}: {amount}.",
    },
    "fines_none": {
        "ro": "Nu aveți amenzi neplătite.",
        "en": "You have no unpaid fines.",
    },
    "fines_summary": {
        "ro": "Aveți {count} neplătite, în total {amount}.",
        "en": "You have {count} unpaid, {amount} in total.",
    },
    "fines_item": {
        "ro": "Amenda din {date}: {amount}.",
        "en": "The fine of {date}: {amount}.",
    },
    "enter_petition": {
        "ro": "Introduceți numărul de înregistrare al petiției, apoi tasta diez.",
        "en": "Enter the registration number of the petition, then the hash key.",
    },
    "petition_not_found": {
        "ro": "Nu am găsit o petiție a dumneavoastră cu acest număr.",
        "en": "We found no petition of yours with that number.",
    },
    "petition_status": {
        "ro": "Petiția numărul {number}: {status}.",
        "en": "Petition number {number}: {status}.",
    },
    "petition_department": {
        "ro": "Este la {department}.",
        "en": "It is with {department}.",
    },
    "petition_term": {
        "ro": "Termenul de răspuns este {date}.",
        "en": "The answer is due by {date}.",
    },
    "accounts_none": {
        "ro": "Nu aveți un rol fiscal la primărie.",
        "en": "You have no taxpayer account with the city hall.",
    },
}

TAX_NAMES: dict[str, dict[str, str]] = {
    "building": {"ro": "Impozitul pe clădiri", "en": "Building tax"},
    "land": {"ro": "Impozitul pe teren", "en": "Land tax"},
    "vehicle": {"ro": "Impozitul pe mijloacele de transport", "en": "Vehicle tax"},
    "certificates": {"ro": "Taxa pentru certificate și autorizații", "en": "Permit fees"},
    "advertising": {"ro": "Taxa pentru reclamă și publicitate", "en": "Advertising tax"},
    "shows": {"ro": "Impozitul pe spectacole", "en": "Tax on shows"},
    "special": {"ro": "Taxe speciale", "en": "Special taxes"},
    "other": {"ro": "Alte taxe locale", "en": "Other local taxes"},
}

ENTRY_STATUSES: dict[str, dict[str, str]] = {
    "open": {"ro": "este în lucru", "en": "is being dealt with"},
    "answered": {"ro": "a primit răspuns", "en": "has been answered"},
    "forwarded": {
        "ro": "a fost trimisă instituției competente",
        "en": "was forwarded to the competent authority",
    },
    "filed": {"ro": "a fost clasată", "en": "was filed without action"},
    "joined": {"ro": "a fost conexată altei petiții", "en": "was joined to another petition"},
    "refused": {"ro": "a fost respinsă motivat", "en": "was refused with reasons"},
    "done": {"ro": "a fost înregistrată", "en": "is registered"},
}


def prompt(key: str, language: str, **values: str) -> str:
    """The text of ``key`` in ``language`` (Romanian when the language is unknown)."""
    texts = PROMPTS[key]
    text = texts.get(language) or texts["ro"]
    if "{institution}" in text:
        values = {"institution": settings.CETATEA_INSTITUTION_NAME, **values}
    return text.format(**values) if values else text


def static_prompts():
    """``(key, language, text)`` of every prompt that needs no caller's data: what the
    endpoint renders ahead of the first call."""
    for key, texts in PROMPTS.items():
        for language in texts:
            try:
                yield key, language, prompt(key, language)
            except (KeyError, IndexError):
                continue  # it has placeholders the flow fills per call


def label(table: dict[str, dict[str, str]], key: str, language: str) -> str:
    names = table.get(key)
    if names is None:
        return key
    return names.get(language) or names["ro"]
