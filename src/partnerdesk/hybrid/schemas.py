"""API shapes of the Hybrid Benefit calculator: the fleet and licences sent, the estimate answered.

Money is a decimal string with the currency's minor units ("292.00"), never a JSON number. Ranges and
rules are checked by the service, which names the field as `vms[0].vCpus`; the shapes here only say
what kind of value each field holds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import Field

from partnerdesk.core.schemas import CamelModel, Link, ResponseModel
from partnerdesk.core.wire_types import NotBlank, any_case_pattern, currency_pattern
from partnerdesk.hybrid.calculation import EDITIONS, RESERVATION_TERMS


# What the document can say of an estimate, from the lists and bounds `hybrid.service` checks against (the
# service still checks, naming the field as `vms[0].vCpus`). Bounds are read when the document is built: the
# service imports these shapes.
def _bounded(name: str, minimum: int) -> Callable[[dict[str, Any]], None]:
    def add_bounds(schema: dict[str, Any]) -> None:
        from partnerdesk.hybrid import service

        target = next((option for option in schema.get("anyOf", []) if option.get("type") == "integer"), schema)
        target.update(minimum=minimum, maximum=getattr(service, name))

    return add_bounds


class VmIn(CamelModel):
    name: NotBlank = Field(min_length=1, max_length=100)
    count: int = Field(json_schema_extra=_bounded("MAX_COUNT", 1))
    # Optional when `size` names a size of the rate table: the table knows its vCPUs.
    v_cpus: int | None = Field(None, json_schema_extra=_bounded("MAX_VCPUS", 1))
    windows_rate_per_hour: Decimal | None = None
    base_rate_per_hour: Decimal | None = None
    # The ARM size name ("Standard_D4s_v5") and region ("westeurope"): rates from the operator's rate
    # table when the line gives none, and the Reserved Instance of the catalog for the reservation.
    size: str | None = Field(None, max_length=80)
    region: str | None = Field(None, max_length=60)


class LicenseIn(CamelModel):
    edition: str = Field(max_length=40, json_schema_extra={"pattern": any_case_pattern(EDITIONS)},
                         description="Datacenter or Standard, in any letter case.")
    cores: int = Field(0, json_schema_extra=_bounded("MAX_CORES", 0))
    # Legacy 2-processor licences, 16 core licences each.
    processor_licenses: int = Field(0, json_schema_extra=_bounded("MAX_PROCESSOR_LICENCES", 0))
    software_assurance: bool
    in_use_on_premises: bool = False


class ReservationIn(CamelModel):
    term: str = Field(max_length=8, json_schema_extra={"pattern": any_case_pattern(RESERVATION_TERMS)},
                      description="P1Y or P3Y.")


class EstimateIn(CamelModel):
    currency: str = Field(max_length=40, json_schema_extra={"pattern": currency_pattern()},
                          description="An ISO 4217 code such as EUR, in any letter case.")
    hours_per_month: int = Field(730, json_schema_extra=_bounded("MAX_HOURS_PER_MONTH", 1))
    # The one-time 180-day overlap during which Standard licences may run on-premises and in Azure.
    migration_overlap: bool = False
    vms: list[VmIn] = Field(max_length=200, json_schema_extra={"minItems": 1})
    licenses: list[LicenseIn] = Field(default_factory=list, max_length=200)
    reservation: ReservationIn | None = None


class EstimateLineOut(ResponseModel):
    name: str
    count: int
    v_cpus: int
    cores_per_vm: int
    vms_covered: int
    pay_as_you_go: str
    with_hybrid_benefit: str
    saving: str
    with_reservation: str | None = None
    with_both: str | None = None
    explanation: str


class EstimateTotalsOut(ResponseModel):
    cores_required: int
    cores_available: int
    cores_used: int
    vms_covered: int
    pay_as_you_go: str
    with_hybrid_benefit: str
    saving: str
    saving_percent: str
    with_reservation: str | None = None
    with_both: str | None = None


class EstimateOut(ResponseModel):
    currency: str
    lines: list[EstimateLineOut]
    totals: EstimateTotalsOut


class StoredEstimateOut(ResponseModel):
    id: str
    customer_id: str
    creation_date: datetime
    created_by: str
    request: dict[str, Any]
    estimate: EstimateOut
    links: dict[str, Link]
    attributes: dict[str, Any] = {"objectType": "HybridBenefitEstimate"}


class VmRateOut(ResponseModel):
    size: str
    region: str
    currency: str
    v_cpus: int
    windows_rate_per_hour: str
    base_rate_per_hour: str
    updated_at: datetime


class RateImportOut(ResponseModel):
    rows: int
    added: int
    updated: int
