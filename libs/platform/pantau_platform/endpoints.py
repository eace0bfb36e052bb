"""Lists of server URLs in one setting: a RabbitMQ or Elasticsearch cluster's nodes.

A setting such as ``PANTAU_AMQP_URL`` or ``PANTAU_ELASTICSEARCH_URL`` holds one URL or several,
separated by commas (``;`` is accepted too, kombu's own separator). Every Pantau process connects
to whichever node answers:

* kombu/nameko take one string with ``;`` between the URLs (``kombu_url``) and fail over
  round-robin when a node goes away;
* pika (the department client) takes the list of URLs (``split_urls``) and tries them in order;
* elasticsearch-py takes the list of hosts (``split_urls``) and spreads requests over them.

``first_url`` is the first node, for what needs one URL's parts (the vhost name, the login).
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[,;\s]+")


def split_urls(value: str) -> list[str]:
    """The URLs of ``value`` (comma-, semicolon- or whitespace-separated), in order, without
    empties or repeats. Raises ``ValueError`` when there is none."""
    urls: list[str] = []
    for part in _SEPARATORS.split(value.strip()):
        if part and part not in urls:
            urls.append(part)
    if not urls:
        raise ValueError(f"no URL in {value!r}")
    return urls


def kombu_url(value: str) -> str:
    """``value`` as kombu's failover string: the URLs joined with ``;``."""
    return ";".join(split_urls(value))


def first_url(value: str) -> str:
    """The first URL of ``value``."""
    return split_urls(value)[0]
