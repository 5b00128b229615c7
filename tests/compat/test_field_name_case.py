"""Property: a request body's field names in any letter case parse to the same object (issue 16, item 1)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from partnerdesk.core.schemas import CamelModel, collecting_ignored_fields
from partnerdesk.domains import API_MODULES
from tests.orders.factories import OFFICE_FR, VISIO_FR_ANNUAL
from tests.support.actors import customer_body

# Every domain's request models, found as the app finds its routers.
for module in (*API_MODULES, "partnerdesk.customers.api", "partnerdesk.audit.api"):
    importlib.import_module(module)


def _request_models() -> list[type[CamelModel]]:
    found, pending = [], list(CamelModel.__subclasses__())
    while pending:
        model = pending.pop()
        if model.__module__.startswith("partnerdesk.") and "[" not in model.__name__:
            found.append(model)
        pending.extend(model.__subclasses__())
    return sorted(set(found), key=lambda model: f"{model.__module__}.{model.__name__}")


MODELS = _request_models()
# Valid bodies: these must parse, in any case, to the very same object.
VALID = {
    "CustomerIn": customer_body("fabrikam.onmicrosoft.com"),
    "CartIn": {"lineItems": [
        {"id": 0, "catalogItemId": OFFICE_FR, "quantity": 2, "billingCycle": "one_time", "currencyCode": "EUR",
         "participants": [{"key": "transaction_reseller", "value": "123"}], "renewsTo": [{"termDuration": "P1Y"}]},
        {"id": 1, "catalogItemId": VISIO_FR_ANNUAL, "quantity": 1, "billingCycle": "annual", "termDuration": "P1Y",
         "provisioningContext": {"Scope": "Shared"}}]},
    "OrderPatchIn": {"status": "cancelled", "lineItems": [{"lineItemNumber": 0}], "reason": "ordered twice"},
}


def _sample_body(model: type[CamelModel]) -> dict[str, Any]:
    """A body naming every field of `model` (values plausible, not necessarily valid)."""
    body: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        text = str(info.annotation)
        body[key] = 1 if "int" in text else [] if "list" in text else {} if "dict" in text else "Value"
    return body


# Fields whose value is a free-form map: its keys are data, not field names.
MAPS = {"provisioningContext", "attributes", "dynamicAttributes"}


def _recased(value: Any, draw) -> Any:
    """`value` with every field name in a letter case drawn by hypothesis (values untouched)."""
    if isinstance(value, dict):
        return {"".join(char.upper() if draw(st.booleans()) else char.lower() for char in key):
                item if key in MAPS else _recased(item, draw) for key, item in value.items()}
    if isinstance(value, list):
        return [_recased(item, draw) for item in value]
    return value


def _outcome(model: type[CamelModel], body: dict[str, Any]):
    with collecting_ignored_fields() as ignored:
        try:
            return "parsed", model.model_validate(body), list(ignored)
        except ValidationError as error:
            return "refused", [(item["type"], item["loc"]) for item in error.errors()], list(ignored)


def test_every_request_model_is_found():
    names = {model.__name__ for model in MODELS}
    assert {"CustomerIn", "CartIn", "CartLineItemIn", "OrderPatchIn", "ServiceRequestIn"} <= names
    assert len(MODELS) >= 20


@pytest.mark.parametrize("model_name", sorted(VALID))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_valid_body_in_any_case_parses_to_the_same_object(model_name, data):
    model = next(model for model in MODELS if model.__name__ == model_name)
    body = VALID[model_name]
    kind, expected, ignored = _outcome(model, body)
    assert kind == "parsed" and ignored == []

    assert _outcome(model, _recased(body, data.draw)) == ("parsed", expected, [])


@pytest.mark.parametrize("model", MODELS, ids=lambda model: f"{model.__module__.split('.')[1]}.{model.__name__}")
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_any_request_model_reads_its_names_in_any_case(model, data):
    body = _sample_body(model)
    assert _outcome(model, _recased(body, data.draw)) == _outcome(model, body)
