"""Object-level authorisation: a department may only speak for itself and its own services.

Rules (each refusal is a 403 problem naming the field):

* the event's ``source`` must be the authenticated department (``/{jurisdiction}/{department}``,
  optionally followed by more path segments naming the sending system);
* the department must exist in the catalogue;
* the event's ``data.receipt_number`` must start with one of the department's catalogue
  ``receipt_prefixes`` (a department owns the receipts it issues: no other department may open
  — squat — or touch a case under them);
* a ``case.submitted`` event's ``data.service_code`` must be a service of that department.
"""

from __future__ import annotations

from pantau_contracts import FieldProblem, ValidatedEvent
from pantau_intake.domain import problems
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.service.ports import ServiceDirectory


def authorise(department: DepartmentRef, event: ValidatedEvent,
              directory: ServiceDirectory) -> None:
    """Raise a 403 ``Problem`` unless ``department`` may emit ``event``."""
    if (event.jurisdiction, event.department) != (department.jurisdiction, department.department):
        raise problems.forbidden(
            f"you are authenticated as {department} and may not emit events for "
            f"{event.jurisdiction}/{event.department}",
            [FieldProblem("source", f"{event.source!r} is not your department",
                          f"{department.source} (optionally followed by /<system>)")])
    if not directory.has_department(department.jurisdiction, department.department):
        raise problems.forbidden(
            f"{department} is not a department in the catalogue",
            [FieldProblem("source", f"{department} is not in the catalogue",
                          "a department listed in the jurisdiction's service catalogue")])
    _authorise_receipt(department, event, directory)
    _authorise_service(department, event, directory)


def _authorise_receipt(department: DepartmentRef, event: ValidatedEvent,
                       directory: ServiceDirectory) -> None:
    receipt = getattr(event.payload, "receipt_number", None)
    if not isinstance(receipt, str):
        return
    if directory.owns_receipt(department.jurisdiction, department.department, receipt):
        return
    prefixes = directory.receipt_prefixes(department.jurisdiction, department.department)
    raise problems.forbidden(
        f"receipt {receipt!r} is not a receipt number of {department}",
        [FieldProblem("data.receipt_number",
                      f"{receipt!r} does not start with a receipt prefix of {department}",
                      "a receipt number starting with one of: " + ", ".join(prefixes))])


def _authorise_service(department: DepartmentRef, event: ValidatedEvent,
                       directory: ServiceDirectory) -> None:
    service_code = getattr(event.payload, "service_code", None)
    if event.type == "case.submitted" and isinstance(service_code, str):
        owner = directory.department_of_service(department.jurisdiction, service_code)
        if owner != department.department:
            problem = ("is not a service in the catalogue" if owner is None
                       else f"belongs to department {owner!r}")
            raise problems.forbidden(
                f"service {service_code!r} is not a service of {department}",
                [FieldProblem("data.service_code", f"{service_code!r} {problem}",
                              f"a service code of {department} in the catalogue")])
