"""The one way publishing writes XML (Atom feeds, Open311 GeoReport): ``document(root)``.

``ElementTree`` escapes ``<``, ``&`` and quotes but writes any other character as it is, so a
control character in a stored note (accepted before the contract refused it, or written into
the index by hand) made every feed and GeoReport answer ill-formed — one bad note broke every
subscriber's reader. ``document`` drops what XML 1.0 forbids or discourages from every text,
tail and attribute value first (``pantau_contracts.text.xml_safe``): the last line of defence,
whatever the index holds.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from pantau_contracts.text import xml_safe

DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


def document(root: ET.Element) -> bytes:
    """The XML declaration and ``root`` serialised as UTF-8, every string made XML-safe."""
    for element in root.iter():
        if element.text:
            element.text = xml_safe(element.text)
        if element.tail:
            element.tail = xml_safe(element.tail)
        for name, value in element.attrib.items():
            element.attrib[name] = xml_safe(value)
    serialized: bytes = ET.tostring(root, encoding="utf-8")
    return DECLARATION + serialized
