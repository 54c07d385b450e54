import pytest


@pytest.fixture(autouse=True)
def english_interface(client):
    """The assertions read the English interface (Romanian is the default)."""
    client.cookies["django_language"] = "en"
