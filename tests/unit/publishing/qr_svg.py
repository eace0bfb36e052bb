"""Read back the QR code segno writes as inline SVG (one ``<path>`` of horizontal runs), to check
that a page's code is exactly segno's encoding of an expected URL."""

from __future__ import annotations

import re

import segno

BORDER = 4  # segno's default quiet zone, in modules


def svg_matrix(svg: str) -> list[list[int]]:
    """The module matrix (1 = dark) drawn by segno's ``svg_inline`` path, without the border."""
    found = re.search(r'<svg width="(\d+)"[^>]*>.*?transform="scale\((\d+)\)".*? d="([^"]+)"',
                      svg, re.S)
    assert found, svg[:300]
    size = int(found.group(1)) // int(found.group(2)) - 2 * BORDER
    matrix = [[0] * size for _ in range(size)]
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", found.group(3)):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:  # h: a run of dark modules on row y (the path draws at the row's middle)
            for column in range(int(x), int(x + float(a))):
                matrix[int(y) - BORDER][column - BORDER] = 1
            x += float(a)
    return matrix


def encodes(svg: str, url: str) -> bool:
    """Is ``svg`` the QR code (error correction M, as the sheet makes it) of ``url``?"""
    expected = [list(row) for row in segno.make(url, error="m", micro=False).matrix]
    return svg_matrix(svg) == expected
