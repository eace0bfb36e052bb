"""Ports of the publishing use cases — all of them live here. Adapters:
``pantau_publishing.adapters`` (``search/`` for Elasticsearch, the citizen and survey stores,
SMTP, the transparency log, ``catalogue_names`` for facet names); the indexer's refused
messages are returned by position, not reported to a port (``service.indexing``). Unit tests
use hand-written fakes."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# The facet names port is defined beside the facets it names (the domain parses them).
from pantau_publishing.domain.query import FacetNames as FacetNames

IndexTarget = Literal["cases", "changes"]


@dataclass(frozen=True)
class IndexAction:
    """Write one document with external versioning: an older (or equal) ``version`` never
    overwrites — ES reports a version conflict, which counts as success."""

    target: IndexTarget
    doc_id: str
    version: int
    document: Mapping[str, Any]


@dataclass(frozen=True)
class BulkItemResult:
    """Outcome of one action. A version conflict counts as success (the index is newer).
    ``transient``: the item failed because the index could not take writes for now (rejected
    execution / 429, 503, a closed index, a disk-watermark block) — not the document's fault.
    ``index``: the concrete index that answered for the alias (None when the answer names
    none), so the indexer notices when a rebuild swapped the alias."""

    ok: bool
    conflict: bool = False
    error: str | None = None
    transient: bool = False
    index: str | None = None


class SearchUnavailable(Exception):
    """The search index (``dependency``: ``"elasticsearch"``) cannot take the batch now — it is
    unreachable, overloaded, blocked or closed. Nothing is wrong with the messages: the caller
    holds the batch and retries it when the index answers again, and never dead-letters it."""

    def __init__(self, dependency: str = "elasticsearch", detail: str = "") -> None:
        super().__init__(f"{dependency} unavailable" + (f": {detail}" if detail else ""))
        self.dependency = dependency
        self.detail = detail


@dataclass(frozen=True)
class ReceivedMessage:
    """A message as it arrived from ``publishing.cases`` (raw bytes; nothing decoded yet): the
    indexer's use-case input, made by ``indexer.service.as_message`` (intake's own
    ``ReceivedMessage`` carries more: the sender's user id and content type)."""

    body: bytes
    routing_key: str = ""
    exchange: str = ""
    headers: Mapping[str, Any] = field(default_factory=dict)
    message_id: str | None = None


class SearchIndex(Protocol):
    def bulk(self, actions: Sequence[IndexAction]) -> list[BulkItemResult]:
        """One bulk request; results in the order of ``actions``. Raises ``SearchUnavailable``
        if the request as a whole failed transiently (cluster unreachable, timeout, 429/503,
        blocked) and any other exception for other failures of the whole request."""
        ...


DocumentVersion = tuple[str, str, int, int]
"""One case document's version: ``(concrete index, receipt number, revision, sequence
number)``. The indexer writes the revision as the external version, and the index numbers each
write, so within one index it names one content."""


@dataclass(frozen=True)
class SearchAnswer:
    total: int
    hits: list[dict[str, Any]]
    aggregations: dict[str, Any]
    versions: list[DocumentVersion] = field(default_factory=list)
    """One per hit, in order, when the body asked for ``"version": true`` and
    ``"seq_no_primary_term": true``."""


class CaseReader(Protocol):
    """Read access to the public indices (the search port of the portal)."""

    def get_case(self, receipt_number: str) -> dict[str, Any] | None: ...

    def search_cases(self, body: Mapping[str, Any]) -> SearchAnswer: ...

    def get_cases(self, receipt_numbers: Sequence[str]
                  ) -> list[tuple[DocumentVersion, dict[str, Any]]]:
        """The documents of these cases as of the last refresh (what a search sees now), with
        their versions; unknown receipts are left out. Raises ``SearchUnavailable`` when any
        of them cannot be read (a shard away): a list with holes would look complete."""
        ...

    def search_changes(self, body: Mapping[str, Any]) -> SearchAnswer: ...

    def scan_cases(self, query: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every matching case document, in receipt-number order, streamed page by page."""
        ...


class TransparencyLog(Protocol):
    """Read side of tracking's transparency log (``pantau_transparency.sql.LogReader``).

    Answers are the published JSON bodies. ``consistency`` raises ``ValueError`` for sizes with
    no proof, ``receipt_proof`` raises ``LookupError`` when there is no such checkpoint."""

    def keys(self) -> dict[str, list[dict[str, Any]]]: ...

    def latest_checkpoint(self) -> dict[str, Any] | None: ...

    def checkpoint(self, tree_size: int) -> dict[str, Any] | None: ...

    def checkpoints(self, after: int = 0, limit: int = 100) -> list[dict[str, Any]]: ...

    def consistency(self, first: int, second: int) -> dict[str, Any]: ...

    def leaves(self, start: int, end: int) -> dict[str, Any]:
        """``{"start", "end", "leaves": [{"leaf_index", "leaf"}]}``, at most 1,000 leaves, only
        under the latest checkpoint (``ValueError`` beyond it)."""
        ...

    def receipt_proof(self, receipt_number: str,
                      tree_size: int | None = None) -> dict[str, Any]:
        """The case's inclusion proofs against the latest checkpoint (or the one of
        ``tree_size``); ``pantau_transparency.sql.NoCheckpoint`` (a ``LookupError``) when there is
        no such checkpoint (none signed yet)."""
        ...


# --- Following a case by e-mail (``service.follow``; adapters: ``adapters.citizen_store``,
# ``adapters.smtp``). The address is personal data: it lives only behind these two ports.

@dataclass(frozen=True)
class Follower:
    """One address following one receipt. ``notified_*``: what it was last told (or, right
    after confirming, what the page showed), so a redelivered or older event never mails."""

    id: int
    receipt_number: str
    address: str
    confirmed: bool
    notified_revision: int = 0
    notified_status: str = ""
    notified_overdue: bool = False


@dataclass(frozen=True)
class CaseState:
    revision: int
    status: str
    overdue: bool


@dataclass(frozen=True)
class QueuedMail:
    """A composed message waiting in the outbox (``kind``: ``confirm`` or ``update``)."""

    id: int
    kind: str
    address: str
    message: bytes
    attempts: int = 0


class MailRejected(Exception):
    """The SMTP server refused the message for good (5xx): retrying cannot help."""


class MailUnavailable(Exception):
    """The SMTP server could not take the message now (unreachable, 4xx): retry later."""


class FollowStore(Protocol):
    """The citizen store's follower tables and mail outbox. Each call is one transaction."""

    def count_hits(self, keys: Sequence[str], now: float, window: float) -> dict[str, int]:
        """Record one request under each (hashed) key; the hits of each within ``window``."""
        ...

    def pending_count(self, receipt_number: str) -> int: ...

    def request_confirmation(self, receipt_number: str, address: str, confirm_hash: str,
                             now: float, purge_after: float, message: bytes) -> bool:
        """Store (or refresh) a pending follower and queue its confirmation mail (replacing an
        unsent one). False, and nothing written, if the address already follows the receipt."""
        ...

    def pending_by_token(self, confirm_hash: str, now: float) -> Follower | None: ...

    def confirm(self, follower_id: int, now: float, state: CaseState) -> bool: ...

    def unsubscribe(self, token_hash: str) -> bool:
        """Delete the follower the unsubscribe token belongs to (and its tokens and mail)."""
        ...

    def confirmed_followers(self, receipt_number: str) -> list[Follower]: ...

    def followed(self, receipt_numbers: Collection[str]) -> set[str]:
        """Those of ``receipt_numbers`` that have a confirmed follower (one query)."""
        ...

    def record_notification(self, follower: Follower, state: CaseState,
                            mail: tuple[str, bytes] | None, now: float) -> bool:
        """Advance ``follower`` from its ``notified_revision`` to ``state`` — only if nobody
        moved it meanwhile — and, with ``mail`` = (unsubscribe token hash, message), queue the
        update (replacing its unsent one: coalescing). False when it was already moved."""
        ...

    def schedule_purge(self, receipt_number: str, purge_after: float) -> None:
        """The case closed: its followers are deleted after ``purge_after``."""
        ...

    def due_mail(self, now: float, limit: int) -> list[QueuedMail]: ...

    def sent_count(self, address: str, since: float) -> tuple[int, float | None]:
        """Updates sent to ``address`` since ``since``, and the oldest of them."""
        ...

    def mark_sent(self, mail: QueuedMail, now: float) -> None: ...

    def retry_later(self, mail: QueuedMail, not_before: float, count_attempt: bool) -> None: ...

    def drop(self, mail: QueuedMail) -> None: ...

    def purge(self, now: float) -> int:
        """Delete followers past ``purge_after`` (closed + 30 days; unconfirmed after 48 h),
        their tokens and mail, and rate-limit records past their window. Rows deleted."""
        ...


class MailTransport(Protocol):
    def send(self, address: str, message: bytes) -> None:
        """Hand the message to the SMTP server; returns only once it accepted it. Raises
        ``MailRejected`` (permanent) or ``MailUnavailable`` (try again later)."""
        ...


@dataclass(frozen=True)
class SurveyResponse:
    """One anonymous SKM answer: the case's public receipt, its service place, the nine scores
    (``domain.skm.UNSUR`` order) and the month answered (``YYYY-MM``) — no IP, no time of day."""

    receipt: str
    jurisdiction: str
    department: str
    service: str
    month: str
    scores: tuple[int, ...]


class SurveyUnavailable(Exception):
    """The citizen store does not answer (the portal shows 503; the case page still works)."""


class SurveyResponses(Protocol):
    """Publishing's private citizen store, SKM part (``adapters.survey_store``)."""

    def add(self, response: SurveyResponse) -> bool:
        """Store ``response``; False when its receipt has answered already (nothing changes)."""
        ...

    def has_answered(self, receipt: str) -> bool: ...

    def totals(self, jurisdiction: str, department: str,
               service: str) -> tuple[int, tuple[int, ...]]:
        """(answers, per-unsur sums) of one service place."""
        ...
