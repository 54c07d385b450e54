"""The client's address behind nginx (cetatea.core.clientip) and the production storage of
the static files (cetatea.core.staticstorage)."""

import pytest
from django.core.management import call_command
from django.test import RequestFactory, override_settings
from django_ratelimit.core import get_usage

from cetatea.core.clientip import client_ip, ratelimit_ip
from cetatea.core.staticstorage import StaticFilesStorage


def _request(remote="127.0.0.1", real_ip=None):
    extra = {"REMOTE_ADDR": remote}
    if real_ip is not None:
        extra["HTTP_X_REAL_IP"] = real_ip
    return RequestFactory().get("/", **extra)


@override_settings(CETATEA_TRUSTED_PROXY=True)
def test_behind_a_trusted_proxy_the_address_comes_from_x_real_ip():
    assert client_ip(_request(real_ip="203.0.113.7")) == "203.0.113.7"
    assert client_ip(_request(real_ip=" 2001:db8::1 ")) == "2001:db8::1"


@override_settings(CETATEA_TRUSTED_PROXY=True)
def test_a_bad_or_missing_header_falls_back_to_the_socket_address():
    assert client_ip(_request(remote="127.0.0.1", real_ip="not an address")) == "127.0.0.1"
    assert client_ip(_request(remote="127.0.0.1")) == "127.0.0.1"


@override_settings(CETATEA_TRUSTED_PROXY=False)
def test_without_a_proxy_a_client_cannot_choose_its_address():
    assert client_ip(_request(remote="198.51.100.2", real_ip="203.0.113.7")) == "198.51.100.2"


@override_settings(CETATEA_TRUSTED_PROXY=False)
def test_ratelimit_key_is_never_empty():
    assert ratelimit_ip(_request(remote="")) == "0.0.0.0"  # noqa: S104 - a key, not a bind


def test_ratelimit_uses_the_client_ip_setting():
    from django.conf import settings

    assert settings.RATELIMIT_IP_META_KEY == "cetatea.core.clientip.ratelimit_ip"


@override_settings(CETATEA_TRUSTED_PROXY=True)
def test_per_ip_rate_limits_count_each_client_behind_the_proxy(settings):
    def usage(ip):
        return get_usage(
            _request(real_ip=ip), group="test-client-ip", key="ip", rate="2/m", increment=True
        )

    assert not usage("203.0.113.7")["should_limit"]
    assert not usage("203.0.113.7")["should_limit"]
    assert usage("203.0.113.7")["should_limit"]
    # Another citizen behind the same nginx is not limited by the first one.
    assert not usage("203.0.113.8")["should_limit"]


@pytest.mark.django_db
def test_collectstatic_with_the_production_storage(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "cetatea.core.staticstorage.StaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    storage = StaticFilesStorage(location=tmp_path)
    name = storage.stored_name("leaflet-markercluster/leaflet.markercluster.js")
    assert name != "leaflet-markercluster/leaflet.markercluster.js"  # hashed
    assert (tmp_path / name).exists()
    assert (tmp_path / (name + ".gz")).exists()  # for nginx's gzip_static
