"""Things with an Indonesian label and, when the data has one, an English label."""

from __future__ import annotations


class BilingualLabel:
    """Mixin for dataclasses with ``label`` (Indonesian) and ``label_en`` (English or None)."""

    label: str
    label_en: str | None

    def label_in(self, lang: str) -> str:
        """The English label when asked for and known; otherwise the Indonesian one."""
        return (self.label_en or self.label) if lang == "en" else self.label
