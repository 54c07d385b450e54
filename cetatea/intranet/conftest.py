import pytest


@pytest.fixture(autouse=True)
def english_interface(request):
    """The intranet's tests read the English interface (Romanian is the default); a test
    that checks Romanian sets the language itself."""
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies["django_language"] = "en"
