"""API shapes of kept estimates and rates, from their rows."""

from __future__ import annotations

from partnerdesk.core.money import money_str
from partnerdesk.core.schemas import Link
from partnerdesk.hybrid.models import StoredEstimate, VmRate
from partnerdesk.hybrid.schemas import EstimateOut, StoredEstimateOut, VmRateOut


def stored_estimate_out(stored: StoredEstimate) -> StoredEstimateOut:
    return StoredEstimateOut(
        id=stored.id, customer_id=stored.customer_id, creation_date=stored.created_at, created_by=stored.created_by,
        request=stored.request, estimate=EstimateOut.model_validate(stored.result),
        links={"self": Link(uri=f"/v1/customers/{stored.customer_id}/hybridbenefit/estimates")})


def rate_out(rate: VmRate) -> VmRateOut:
    return VmRateOut(size=rate.size, region=rate.region, currency=rate.currency, v_cpus=rate.v_cpus,
                     windows_rate_per_hour=money_str(rate.windows_rate_per_hour, rate.currency),
                     base_rate_per_hour=money_str(rate.base_rate_per_hour, rate.currency),
                     updated_at=rate.updated_at)
