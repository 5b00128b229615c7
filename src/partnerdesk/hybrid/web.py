"""The Hybrid Benefit calculator pages: on its own (every role) and as a customer's tab, where an estimate
can be kept and its suggestions put in a cart.

The calculator is a GET form: its lines are in the address, so a result can be bookmarked, reloaded
and printed. It builds the API's `EstimateIn` from the form and calls the same service as
`POST /v1/hybridbenefit/estimates`; the chart is an SVG drawn here, readable without JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from partnerdesk.core.errors import DeskError
from partnerdesk.core.money import round_to_currency
from partnerdesk.customers import service as customers
from partnerdesk.customers.models import Customer
from partnerdesk.customers.web import register_customer_tab, render_customer_page
from partnerdesk.hybrid import calculation, service
from partnerdesk.hybrid.api import ESTIMATE_KEEPERS, EVERYONE
from partnerdesk.hybrid.errors import (
    InvalidRate,
    InvalidReservationTerm,
    NothingToSuggest,
    RateNotFound,
    UnknownEdition,
)
from partnerdesk.hybrid.schemas import EstimateIn
from partnerdesk.orders.api import BUYERS
from partnerdesk.orders.web import MESSAGES as CART_MESSAGES
from partnerdesk.orders.web import NOT_SAVED as CART_NOT_SAVED
from partnerdesk.web import (
    N_,
    FormErrors,
    PageContext,
    allow_page,
    format_money,
    format_number,
    portal_router,
    read_form,
    redirect,
    register_templates,
    register_translations,
)

HERE = Path(__file__).parent
router = portal_router()
register_templates("hybrid", HERE / "templates")
register_translations(HERE / "locale")
# Not in the menu: the agents' menus are full at 1280 px in French. Agents reach the calculator from a
# customer's tab, which links to the calculator without a customer.
register_customer_tab(N_("Hybrid Benefit"), "/customers/{customer_id}/hybridbenefit", ESTIMATE_KEEPERS, order=60)

VM_ROWS, LICENCE_ROWS, MAX_ROWS = 3, 2, 50
EDITION_LABELS = {calculation.DATACENTER: N_("Datacenter"), calculation.STANDARD: N_("Standard")}
TERM_LABELS = {"": N_("No reservation"), "P1Y": N_("1 year"), "P3Y": N_("3 years")}

# What the page says next to a field the service refused: by the field's last part, then the error class.
FIELD_MESSAGES: dict[str, str] = {
    "name": N_("Give the line a name of at most 100 characters."),
    "count": N_("Enter a whole number of VMs above zero."),
    "vCpus": N_("Enter the vCPUs of each VM (a whole number above zero), or leave it empty to take them from "
                "the rate table."),
    "windowsRatePerHour": N_("Enter the hourly rate with Windows (zero or more, not below the base rate), or "
                             "choose a size from the rate table."),
    "baseRatePerHour": N_("Enter the hourly base rate (zero or more), or choose a size from the rate table."),
    "size": N_("The rate table has no rate for this size and region in this currency."),
    "region": N_("The rate table has no rate for this size and region in this currency."),
    "edition": N_("Choose Datacenter or Standard."),
    "cores": N_("Enter a whole number of core licences, zero or more; a line needs some cores or processor "
                "licences."),
    "processorLicenses": N_("Enter a whole number of 2-processor licences, zero or more."),
    "hoursPerMonth": N_("Enter the hours each VM runs in a month, from 1 to 744."),
    "currency": N_("Choose a currency."),
    "term": N_("Choose no reservation, 1 year or 3 years."),
    "vms": N_("Fill in at least one VM line."),
}
FILL_IN_A_VM = FIELD_MESSAGES["vms"]
NOT_A_WHOLE_NUMBER = N_("Enter a whole number.")
NOT_A_RATE = N_("Enter a rate such as 0.354.")
NOTHING_TO_SUGGEST = N_("This estimate suggests nothing to buy: no line is worth reserving and no VM lacks licences.")
CART_REFUSED = N_("The cart could not be made: %(reason)s")
WHOLE = re.compile(r"^-?\d{1,9}$")


# --- the form ------------------------------------------------------------------------------------

class FieldProblem(Exception):
    """A form value that is not even a number; named by its form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field)
        self.field, self.message = field, message


@dataclass
class Calculator:
    """The calculator's form: what was typed, the request built from it, and where each request line came from."""

    values: dict[str, str]
    vm_rows: int
    licence_rows: int
    vm_positions: list[int]       # the form row of each request VM line
    licence_positions: list[int]  # the form row of each request licence line
    request: EstimateIn | None
    errors: FormErrors

    def hidden_fields(self) -> list[tuple[str, str]]:
        """The form's values, to send again with "Keep this estimate" and "Add products"."""
        return [(name, value) for name, value in self.values.items() if value]


def _value(source: Mapping[str, Any], name: str) -> str:
    value = source.get(name)
    return value.strip() if isinstance(value, str) else ""


def _rows(source: Mapping[str, Any], prefix: str, minimum: int, add: bool) -> int:
    typed = [int(key[len(prefix):].split("_")[0]) for key in source if re.match(rf"^{prefix}\d+_", key)]
    count = max([minimum, *(number + 1 for number in typed if number < MAX_ROWS)])
    asked = _value(source, f"{prefix}s")
    if asked.isdigit():
        count = max(count, min(int(asked), MAX_ROWS))
    return min(count + (1 if add else 0), MAX_ROWS)


def _whole(text: str, field: str) -> int:
    if not WHOLE.match(text):
        raise FieldProblem(field, NOT_A_WHOLE_NUMBER)
    return int(text)


def _rate(text: str, field: str) -> str | None:
    if not text:
        return None
    try:
        rate = Decimal(text.replace(",", ".").replace("\u202f", "").replace(" ", ""))
    except InvalidOperation:
        raise FieldProblem(field, NOT_A_RATE) from None
    if not rate.is_finite():
        raise FieldProblem(field, NOT_A_RATE)
    return str(rate)


def _vm(values: dict[str, str], row: int) -> dict[str, Any] | None:
    prefix = f"vm{row}_"
    typed = {key: values.get(prefix + key, "") for key in ("name", "count", "vcpus", "size", "windows", "base")}
    if not any(typed.values()):
        return None
    vm: dict[str, Any] = {"name": typed["name"] or f"#{row + 1}", "count": _whole(typed["count"] or "1",
                                                                                    prefix + "count")}
    if typed["vcpus"]:
        vm["vCpus"] = _whole(typed["vcpus"], prefix + "vcpus")
    size, _at, region = typed["size"].partition("@")
    if size:
        vm["size"], vm["region"] = size, region
    for key, name in (("windows", "windowsRatePerHour"), ("base", "baseRatePerHour")):
        rate = _rate(typed[key], prefix + key)
        if rate is not None:
            vm[name] = rate
    return vm


def _licence(values: dict[str, str], row: int) -> dict[str, Any] | None:
    prefix = f"lic{row}_"
    cores, processors = values.get(prefix + "cores", ""), values.get(prefix + "processors", "")
    if not cores and not processors:
        return None
    return {"edition": values.get(prefix + "edition", "") or calculation.STANDARD,
            "cores": _whole(cores or "0", prefix + "cores"),
            "processorLicenses": _whole(processors or "0", prefix + "processors"),
            "softwareAssurance": values.get(prefix + "sa") == "yes",
            "inUseOnPremises": values.get(prefix + "onprem") == "yes"}


def read_calculator(source: Mapping[str, Any], *, default_currency: str, gettext) -> Calculator:
    """The form as typed (from the address or a posted form) and the API request it stands for."""
    vm_rows = _rows(source, "vm", VM_ROWS, _value(source, "add") == "vm")
    licence_rows = _rows(source, "lic", LICENCE_ROWS, _value(source, "add") == "licence")
    names = ["currency", "hours", "overlap", "term"]
    names += [f"vm{row}_{key}" for row in range(vm_rows) for key in ("name", "count", "vcpus", "size", "windows",
                                                                   "base")]
    names += [f"lic{row}_{key}" for row in range(licence_rows) for key in ("edition", "cores", "processors", "sa",
                                                                         "onprem")]
    values = {name: _value(source, name)[:200] for name in names}
    values["currency"] = values["currency"] or default_currency
    values["hours"] = values["hours"] or "730"
    calculator = Calculator(values, vm_rows, licence_rows, [], [], None, FormErrors())
    typed = any(value for name, value in values.items() if name.startswith("vm"))
    if not typed and not _value(source, "calculate"):
        return calculator  # a blank calculator, first opened
    try:
        vms, licences = [], []
        for row in range(vm_rows):
            if (vm := _vm(values, row)) is not None:
                vms.append(vm)
                calculator.vm_positions.append(row)
        for row in range(licence_rows):
            if (licence := _licence(values, row)) is not None:
                licences.append(licence)
                calculator.licence_positions.append(row)
        body: dict[str, Any] = {"currency": values["currency"], "hoursPerMonth": _whole(values["hours"], "hours"),
                                "migrationOverlap": values["overlap"] == "yes", "vms": vms, "licenses": licences}
        if values["term"]:
            body["reservation"] = {"term": values["term"]}
        calculator.request = EstimateIn.model_validate(body)
    except FieldProblem as problem:
        calculator.errors.add(problem.field, gettext(problem.message))
    except ValidationError as error:
        for problem in error.errors():
            location = _location(problem.get("loc", ()))
            message = FIELD_MESSAGES.get(location.rpartition(".")[2], FILL_IN_A_VM)
            calculator.errors.add(_form_field(calculator, location), gettext(message))
    return calculator


def _location(parts) -> str:
    """Pydantic's ("vms", 0, "name") as the API names it: `vms[0].name`."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _form_field(calculator: Calculator, location: str) -> str | None:
    """The form field of an API location such as `vms[2].vCpus`."""
    keys = {"name": "name", "count": "count", "vCpus": "vcpus", "windowsRatePerHour": "windows",
            "baseRatePerHour": "base", "size": "size", "region": "size", "edition": "edition", "cores": "cores",
            "processorLicenses": "processors"}
    found = re.match(r"^(vms|licenses)\[(\d+)\]\.(\w+)$", location)
    if found:
        positions = calculator.vm_positions if found[1] == "vms" else calculator.licence_positions
        row = positions[int(found[2])] if int(found[2]) < len(positions) else 0
        return f"{'vm' if found[1] == 'vms' else 'lic'}{row}_{keys.get(found[3], found[3])}"
    return {"hoursPerMonth": "hours", "currency": "currency", "reservation.term": "term"}.get(location)


def explain_refusal(calculator: Calculator, error: DeskError, gettext) -> None:
    location = str(error.data[0]) if error.data else ""
    last = location.rpartition(".")[2] or location
    message = FIELD_MESSAGES.get(last)
    if isinstance(error, RateNotFound):
        message = FIELD_MESSAGES["size"]
    elif isinstance(error, UnknownEdition):
        message = FIELD_MESSAGES["edition"]
    elif isinstance(error, InvalidReservationTerm):
        message = FIELD_MESSAGES["term"]
    elif isinstance(error, InvalidRate) and last == "windowsRatePerHour":
        message = FIELD_MESSAGES["windowsRatePerHour"]
    field = _form_field(calculator, location)
    calculator.errors.add(field, gettext(message or FILL_IN_A_VM))


# --- the result ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bar:
    label: str
    label_lines: list[str]
    amount: Decimal
    text: str
    x: int
    y: int
    height: int
    colour: str


CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_BOTTOM = 640, 320, 40, 250
# Dark enough for white text nearby and for a grey-scale print to tell them apart.
COLOURS = ("#4a5263", "#1f4e9c", "#1e6b3a", "#6b3fa0")


def chart_bars(result: calculation.Estimate, ctx: PageContext) -> list[Bar]:
    totals = result.totals
    figures = [(ctx.gettext("Pay-as-you-go"), totals.pay_as_you_go),
               (ctx.gettext("With Hybrid Benefit"), totals.with_hybrid_benefit)]
    if totals.with_reservation is not None and totals.with_both is not None:
        figures += [(ctx.gettext("With reservation"), totals.with_reservation),
                    (ctx.gettext("Hybrid Benefit and reservation"), totals.with_both)]
    top = max((amount for _label, amount in figures), default=Decimal(0)) or Decimal(1)
    slot = CHART_WIDTH // len(figures)
    bars = []
    for position, (label, amount) in enumerate(figures):
        height = int((amount / top * (CHART_BOTTOM - CHART_TOP)).to_integral_value())
        bars.append(Bar(label, _wrapped(label), amount, format_money(amount, result.currency, ctx.locale),
                        x=position * slot + slot // 4, y=CHART_BOTTOM - height, height=height,
                        colour=COLOURS[position]))
    return bars


def _wrapped(label: str, width: int = 16) -> list[str]:
    """A bar's label in lines of about `width` characters: SVG text does not wrap by itself."""
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _numbers(ctx: PageContext, currency: str):
    return {"money": lambda amount: format_money(round_to_currency(amount, currency), currency, ctx.locale),
            "number": lambda value: format_number(value, ctx.locale),
            "term": lambda term: ctx.gettext(TERM_LABELS.get(term, term))}


def result_view(checked: service.CheckedEstimate, ctx: PageContext, *, suggest: bool) -> dict[str, Any]:
    result = checked.result
    numbers = _numbers(ctx, result.currency)
    explain = lambda notes: calculation.describe(notes, ctx.gettext, **numbers)  # noqa: E731
    found = service.suggestions(ctx.db, checked, now=ctx.now) if suggest else []
    return {
        "result": result, "bars": chart_bars(result, ctx),
        "explanations": [explain(line.notes) for line in result.lines],
        "licence_notes": [explain([licence.note]) for licence in result.licences],
        "suggestions": [(suggestion, explain([suggestion.reason])) for suggestion in found],
        "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT, "bottom": CHART_BOTTOM},
        "terms_label": ctx.gettext(TERM_LABELS[result.reservation_term or ""]),
    }


def _rate_choices(ctx: PageContext, currency: str) -> list[tuple[str, str]]:
    return [(f"{rate.size}@{rate.region}", ctx.gettext("%(size)s in %(region)s, %(vcpus)s vCPUs",
                                                       size=rate.size, region=rate.region, vcpus=rate.v_cpus))
            for rate in sorted(service.all_rates(ctx.db), key=lambda rate: (rate.v_cpus, rate.size, rate.region))
            if rate.currency == currency]


def _currencies(ctx: PageContext, default: str) -> list[str]:
    return sorted({default, *(rate.currency for rate in service.all_rates(ctx.db))})


def _page_context(ctx: PageContext, calculator: Calculator, customer: Customer | None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "calc": calculator, "values": calculator.values, "errors": calculator.errors or None,
        "rate_choices": _rate_choices(ctx, calculator.values["currency"]),
        "currencies": _currencies(ctx, calculator.values["currency"]),
        "editions": [(edition, ctx.gettext(label)) for edition, label in EDITION_LABELS.items()],
        "terms": [(term, ctx.gettext(label)) for term, label in TERM_LABELS.items()],
        "action": f"/customers/{customer.id}/hybridbenefit" if customer else "/hybridbenefit",
        "customer": customer, "may_keep": customer is not None and ctx.has_role(*ESTIMATE_KEEPERS),
        "may_buy": customer is not None and ctx.has_role(*BUYERS),
        "hidden_fields": calculator.hidden_fields(),
    }
    if calculator.request is not None and not calculator.errors:
        try:
            checked = service.estimate(ctx.db, request=calculator.request, now=ctx.now,
                                       country=customer.country if customer else None)
        except DeskError as error:
            explain_refusal(calculator, error, ctx.gettext)
            context["errors"] = calculator.errors
        else:
            context.update(result_view(checked, ctx, suggest=customer is not None))
    return context


def _status(context: dict[str, Any]) -> int:
    return 400 if context.get("errors") else 200


@router.get("/hybridbenefit")
def calculator_page(ctx: PageContext = allow_page(*EVERYONE)) -> Response:
    calculator = read_calculator(ctx.request.query_params, default_currency="EUR", gettext=ctx.gettext)
    context = _page_context(ctx, calculator, None)
    return ctx.render("hybrid/calculator.html", context, status_code=_status(context))


def _customer_currency(customer: Customer) -> str:
    return service.market_currency(customer.country) or "EUR"


@router.get("/customers/{customer_id}/hybridbenefit")
def customer_calculator(customer_id: str, ctx: PageContext = allow_page(*ESTIMATE_KEEPERS)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    source: Mapping[str, Any] = ctx.request.query_params
    estimate_id = _value(source, "estimate")
    if estimate_id:
        stored = service.get_estimate(ctx.db, principal=ctx.principal, customer_id=customer.id,
                                      estimate_id=estimate_id)
        source = {**form_of_request(stored.request), "estimate": estimate_id}
    calculator = read_calculator(source, default_currency=_customer_currency(customer), gettext=ctx.gettext)
    context = _page_context(ctx, calculator, customer)
    context["kept"] = list(ctx.db.scalars(service.customer_estimates(ctx.db, principal=ctx.principal,
                                                                     customer_id=customer.id).limit(20)))
    return render_customer_page(ctx, customer, "hybrid/customer_calculator.html", context,
                                status_code=_status(context))


def form_of_request(request: dict[str, Any]) -> dict[str, str]:
    """A kept estimate's request as the calculator's form fields, to open it again."""
    values = {"currency": request.get("currency", ""), "hours": str(request.get("hoursPerMonth", 730)),
              "overlap": "yes" if request.get("migrationOverlap") else "",
              "term": (request.get("reservation") or {}).get("term", ""), "calculate": "1"}
    for row, vm in enumerate(request.get("vms", [])):
        values |= {f"vm{row}_name": vm.get("name", ""), f"vm{row}_count": str(vm.get("count", "")),
                   f"vm{row}_vcpus": str(vm.get("vCpus", "") or ""),
                   f"vm{row}_size": f"{vm['size']}@{vm.get('region', '')}" if vm.get("size") else "",
                   f"vm{row}_windows": str(vm.get("windowsRatePerHour", "") or ""),
                   f"vm{row}_base": str(vm.get("baseRatePerHour", "") or "")}
    for row, licence in enumerate(request.get("licenses", [])):
        values |= {f"lic{row}_edition": licence.get("edition", ""), f"lic{row}_cores": str(licence.get("cores", 0)),
                   f"lic{row}_processors": str(licence.get("processorLicenses", 0)),
                   f"lic{row}_sa": "yes" if licence.get("softwareAssurance") else "",
                   f"lic{row}_onprem": "yes" if licence.get("inUseOnPremises") else ""}
    return values


def _query_of(calculator: Calculator) -> str:
    return urlencode([*calculator.hidden_fields(), ("calculate", "1")])


def _posted(ctx: PageContext, customer: Customer, form: FormData) -> Calculator:
    source = {key: value for key, value in form.items() if isinstance(value, str)} | {"calculate": "1"}
    return read_calculator(source, default_currency=_customer_currency(customer), gettext=ctx.gettext)


def _refused(ctx: PageContext, customer: Customer, calculator: Calculator, message: str | None = None) -> Response:
    context = _page_context(ctx, calculator, customer)
    context["kept"] = []
    if message:
        context["message"] = message
    return render_customer_page(ctx, customer, "hybrid/customer_calculator.html", context, status_code=400)


@router.post("/customers/{customer_id}/hybridbenefit/estimates")
def keep_estimate(customer_id: str, ctx: PageContext = allow_page(*ESTIMATE_KEEPERS),
                  form: FormData = Depends(read_form)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    calculator = _posted(ctx, customer, form)
    if calculator.request is None or calculator.errors:
        return _refused(ctx, customer, calculator)
    try:
        stored = service.store_estimate(ctx.db, principal=ctx.principal, customer_id=customer.id,
                                        request=calculator.request, now=ctx.now)
    except DeskError as error:
        ctx.db.rollback()
        if error.status_code in (403, 404):
            raise
        explain_refusal(calculator, error, ctx.gettext)
        return _refused(ctx, customer, calculator)
    ctx.flash(ctx.gettext("The estimate was kept on this customer."))
    return redirect(f"/customers/{customer.id}/hybridbenefit?{urlencode({'estimate': stored.id})}")


@router.post("/customers/{customer_id}/hybridbenefit/cart")
def add_suggested_products(customer_id: str, ctx: PageContext = allow_page(*BUYERS),
                           form: FormData = Depends(read_form)) -> Response:
    """Makes a cart holding the suggested Reserved Instances and licence packs, then opens it."""
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    calculator = _posted(ctx, customer, form)
    if calculator.request is None or calculator.errors:
        return _refused(ctx, customer, calculator)
    try:
        view = service.cart_from_estimate(ctx.db, principal=ctx.principal, customer_id=customer.id,
                                          request=calculator.request, now=ctx.now)
    except DeskError as error:
        ctx.db.rollback()
        if error.status_code in (403, 404):
            raise
        if isinstance(error, NothingToSuggest):
            return _refused(ctx, customer, calculator, ctx.gettext(NOTHING_TO_SUGGEST))
        return _refused(ctx, customer, calculator, ctx.gettext(CART_REFUSED, reason=_cart_refusal(ctx, error)))
    ctx.flash(ctx.gettext("A cart was made with the suggested products; check it and place the order."))
    return redirect(f"/customers/{customer.id}/carts/{view.cart.id}")


def _cart_refusal(ctx: PageContext, error: DeskError) -> str:
    """The cart pages' own words for why the orders service refused the cart."""
    for error_class, message in CART_MESSAGES:
        if isinstance(error, error_class):
            return ctx.gettext(message)
    return ctx.gettext(CART_NOT_SAVED)


STYLESHEET = (HERE / "templates" / "calculator.css").read_text(encoding="utf-8")


@router.get("/hybridbenefit/calculator.css")
def stylesheet(ctx: PageContext = allow_page(*EVERYONE)) -> Response:
    """The calculator's own layout and print rules (the portal's stylesheet belongs to the shell)."""
    return Response(STYLESHEET, media_type="text/css", headers={"Cache-Control": "private, max-age=3600"})
