"""A cluster's nodes in one setting: parsing, kombu's failover form, credentials per node, the ES
client's hosts, the index replica setting, and the department client's pika parameters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kombu import Connection

from pantau_client.department import broker_parameters
from pantau_platform.endpoints import first_url, kombu_url, split_urls
from pantau_platform.identities import identity_url
from pantau_platform.settings import PantauSettings
from pantau_publishing.adapters.search.bootstrap import TEMPLATES, load_template
from pantau_publishing.adapters.search.client import Aliases, make_client
from pantau_publishing.settings import PublishingSettings

A = "amqp://pantau:pantau@127.0.0.1:5701/pantau"
B = "amqp://pantau:pantau@127.0.0.1:5702/pantau"
C = "amqp://pantau:pantau@127.0.0.1:5703/pantau"


@pytest.mark.parametrize("value", [f"{A},{B},{C}", f"{A};{B};{C}", f" {A} , {B},,{C} ",
                                   f"{A},\n{B}\n{C},{A}"])
def test_lists_split_in_order_without_blanks_or_repeats(value: str) -> None:
    assert split_urls(value) == [A, B, C]
    assert kombu_url(value) == f"{A};{B};{C}"
    assert first_url(value) == A


def test_one_url_is_a_list_of_one() -> None:
    assert split_urls(A) == [A] and kombu_url(A) == A


@pytest.mark.parametrize("value", ["", " ", ",;", "\n"])
def test_no_url_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        split_urls(value)


@given(st.lists(st.integers(1024, 65535), min_size=1, max_size=5, unique=True),
       st.sampled_from([",", ";", ", ", " ; "]))
def test_any_list_round_trips(ports: list[int], separator: str) -> None:
    urls = [f"amqp://u:p@127.0.0.1:{port}/v" for port in ports]
    assert split_urls(separator.join(urls)) == urls
    assert split_urls(kombu_url(separator.join(urls))) == urls


def test_settings_keep_amqp_lists_in_kombus_failover_form() -> None:
    settings = PantauSettings(amqp_url=f"{A},{B}", tracking_amqp_url=f"{A}, {C}")
    assert settings.amqp_url == f"{A};{B}"
    assert settings.service_amqp_url("tracking") == f"{A};{C}"
    assert settings.service_amqp_url("indexer") == f"{A};{B}"  # development fallback


def test_kombu_fails_over_across_the_list() -> None:
    # kombu itself reads the ";" form as alternates (what nameko's AMQP_URI receives)
    connection = Connection(kombu_url(f"{A},{B},{C}"))
    assert connection.alt == [A, B, C]
    assert connection.as_uri().endswith(":5701/pantau")
    connection.maybe_switch_next()
    assert connection.as_uri().endswith(":5702/pantau")


def test_identity_url_puts_the_login_on_every_node() -> None:
    url = identity_url(f"{A},{B}", "pantau-tracking", "s3cret")
    assert url == ("amqp://pantau-tracking:s3cret@127.0.0.1:5701/pantau;"
                   "amqp://pantau-tracking:s3cret@127.0.0.1:5702/pantau")


def test_elasticsearch_client_gets_every_host() -> None:
    es = make_client("http://127.0.0.1:9201,http://127.0.0.1:9202, http://127.0.0.1:9203")
    ports = sorted(node.config.port for node in es.transport.node_pool.all())
    assert ports == [9201, 9202, 9203]


def test_index_replicas_default_to_zero_and_reach_the_template() -> None:
    assert PublishingSettings().index_replicas == 0
    aliases = Aliases.from_settings(PublishingSettings(index_replicas=1))
    assert aliases.replicas == 1
    template = load_template(TEMPLATES["cases"], "a", aliases.replicas)
    assert template["template"]["settings"]["number_of_replicas"] == 1
    assert load_template(TEMPLATES["changes"], "b")["template"]["settings"][
        "number_of_replicas"] == 0


def test_department_client_tries_every_node_in_order() -> None:
    parameters = broker_parameters(f"{A}; {B},{C}", connect_timeout=2.0)
    assert [p.port for p in parameters] == [5701, 5702, 5703]
    assert all(p.connection_attempts == 1 and p.socket_timeout == 2.0 for p in parameters)
    with pytest.raises(ValueError):
        broker_parameters(" ")
