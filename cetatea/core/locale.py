"""Romanian first: the interface language is the one the person chose, else Romanian."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class RomanianFirstLocaleMiddleware(LocaleMiddleware):
    """Like Django's LocaleMiddleware, but a browser's Accept-Language does not win over
    the city's language: only the language cookie (the switcher in the header) does."""

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        codes = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in codes else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
