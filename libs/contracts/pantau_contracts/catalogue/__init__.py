"""The service catalogue (Standar Pelayanan) as data: which services a jurisdiction offers, who
owns them, their legal maximum (jangka waktu) and where it comes from, fee, requirements,
product, complaint channels and ordered stages.

One YAML file per jurisdiction in ``<repo>/catalogue/`` (or ``$PANTAU_CATALOGUE_DIR``)::

    code: kota-bandung            # must equal the file name without .yaml
    name: Kota Bandung
    region_code: "32.73"          # Kemendagri kode wilayah
    timezone: Asia/Jakarta        # IANA zone; times are shown in it, working days counted in it
    version: "2026.2"             # bump on every change; cases record it when they are opened
    reporting_tolerance: 1        # working days a department may take to report a step
    departments:
      dpmptsp:
        name: {id: ..., en: ...}
        receipt_prefixes: [BDG-PBG-, BDG-SLF-]   # the receipt numbers this department issues
        complaints: [{name: ..., url: ..., phone: ..., email: ...}]   # its own; LAPOR! is national
        services:
          pbg:
            name: {id: ..., en: ...}
            product: {id: ..., en: ...}          # what the citizen receives
            max_working_days: 28                 # or max_duration: {value: 24, unit: hours}
            channels: {other: {name: ..., max_working_days: 14}}   # optional per-channel maxima
            fee: 0                               # rupiah; 0 = gratis
            fee_note: ...
            requirements: [...]
            stages:                              # in the order a case moves through them
              - {code: verifikasi, name: {...}, public_status: verifikasi, max_working_days: 3}
            slack: ...                           # only if the stage targets add up to less
            basis:                               # where each figure comes from
              max: {source: local|national|statutory-default, citation: ..., url: ...}
              fee: {source: national, citation: "UU 23/2006 jo. UU 24/2013, Pasal 79A"}

Loading validates everything (``loader``: shape in ``model``, Standar Pelayanan rules in
``checks``) and raises ``CatalogueError`` naming the file, the path to the bad field and what is
wrong. ``python -m pantau_contracts.catalogue check [DIR]`` prints every problem.

A department OWNS its receipt numbers: no two departments — in any jurisdiction — may declare
prefixes that could match the same receipt. Intake refuses an event whose receipt is outside
its sender's prefixes, so no department can open (squat) or touch another's case.

Cases never read the live catalogue after they are opened: tracking stores
``Catalogue.definition(...)`` — a ``ServiceDefinition`` snapshot carrying the catalogue version
and the maximum of the case's submission channel — with the case, so editing the catalogue
never rewrites history.
"""

from pantau_contracts.catalogue.checks import CatalogueError, cross_problems, prefix_overlaps
from pantau_contracts.catalogue.loader import (
    DEFAULT_DIRECTORY,
    ENV_DIRECTORY,
    REPO_ROOT,
    catalogue_directory,
    load_catalogue,
    load_jurisdiction_file,
    parse_jurisdiction,
)
from pantau_contracts.catalogue.model import (
    DEFAULT_REPORTING_TOLERANCE,
    STAGE_STATUSES,
    Catalogue,
    Department,
    Jurisdiction,
    Service,
    ServiceDefinition,
    Stage,
)
from pantau_contracts.catalogue.standard import (
    LAPOR,
    NATIONAL_APPEALS,
    AppealRule,
    Appeals,
    Basis,
    Channel,
    ComplaintChannel,
    Duration,
    LegalBasis,
    working_days_for_hours,
)

__all__ = [
    "DEFAULT_DIRECTORY", "DEFAULT_REPORTING_TOLERANCE", "ENV_DIRECTORY", "LAPOR",
    "NATIONAL_APPEALS", "REPO_ROOT", "STAGE_STATUSES", "AppealRule", "Appeals", "Basis",
    "Catalogue", "CatalogueError", "Channel", "ComplaintChannel", "Department", "Duration",
    "Jurisdiction", "LegalBasis", "Service", "ServiceDefinition", "Stage", "catalogue_directory",
    "cross_problems", "load_catalogue", "load_jurisdiction_file", "parse_jurisdiction",
    "prefix_overlaps", "working_days_for_hours",
]
