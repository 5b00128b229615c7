"""Reading posted forms and showing why a service refused them, field by field, in the page's language.

Pages build the same request shapes as the API (`CustomerIn`, ...) from the form and call the same
services; nothing here decides what is valid. A `FormField` says which API locations a form field
fills, so a Pydantic `ValidationError` (by location) or a `DeskError` (whose `data` names the
location) can be shown next to the field the user typed into.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError
from starlette.datastructures import FormData

from partnerdesk.core.errors import DeskError
from partnerdesk.web.i18n import N_

FILL_IN = N_("Fill in this field.")
TOO_SHORT = N_("Use at least %(min_length)s characters.")
TOO_LONG = N_("Use at most %(max_length)s characters.")
NOT_SAVED = N_("This could not be saved. Check the form and send it again.")
# An error summary line names its field, since "Fill in this field." alone says not which one.
SUMMARY_LINE = N_("%(field)s: %(message)s")


def text_value(form: FormData, name: str, *, max_length: int | None = None) -> str:
    """A text field as typed, without surrounding spaces; a file or a missing field is empty text.

    Give `max_length` only for fields no service checks (sign-in, language): a field a service
    validates is passed whole, so that an overlong value is reported rather than cut.
    """
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    value = value.strip()
    return value[:max_length] if max_length is not None else value


@dataclass(frozen=True)
class FormField:
    """One form field: its name in the HTML form, its label, the API locations it fills."""

    name: str
    label: str
    api_locations: tuple[str, ...]
    # Shown when a service refuses the value (the service's own text is English and technical).
    refused: str
    required: bool = False


@dataclass
class FormErrors:
    """Translated messages by form field name, and those that belong to no one field."""

    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    # The translated label of each field with a message, to name it in the error summary.
    labels: dict[str, str] = field(default_factory=dict)
    # The translated SUMMARY_LINE pattern, set by `explain`.
    summary_line: str = SUMMARY_LINE

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    def add(self, name: str | None, message: str, *, label: str | None = None) -> None:
        if name is None:
            self.general.append(message)
            return
        self.fields.setdefault(name, message)
        if label is not None:
            self.labels.setdefault(name, label)

    def summary(self) -> list[tuple[str, str]]:
        """(field name, "Company name: fill in this field.") for each field's message, in form order."""
        return [(name, self._summary_text(name, message)) for name, message in self.fields.items()]

    def _summary_text(self, name: str, message: str) -> str:
        label = self.labels.get(name)
        if not label:
            return message
        # "Fill in this field." reads on after the label as "fill in this field."; "EU VAT..." keeps its case.
        if len(message) > 1 and message[0].isupper() and message[1].islower():
            message = message[0].lower() + message[1:]
        return self.summary_line % {"field": label, "message": message}


def _field_by_location(fields: Iterable[FormField]) -> dict[str, FormField]:
    return {location: form_field for form_field in fields for location in form_field.api_locations}


def explain(
    error: DeskError | ValidationError,
    fields: Iterable[FormField],
    gettext: Callable[[str], str],
    *,
    by_error: Mapping[type[DeskError], tuple[str, str]] | None = None,
) -> FormErrors:
    """The messages to show for `error`, translated with `gettext`.

    `by_error` names the field and message for business errors whose `data` is not a location
    (for example `DomainTaken`, whose data is the domain itself): `{DomainTaken: ("domain", N_("..."))}`.
    """
    fields = tuple(fields)
    by_location = _field_by_location(fields)
    labels = {form_field.name: gettext(form_field.label) for form_field in fields}
    errors = FormErrors(summary_line=gettext(SUMMARY_LINE))
    if isinstance(error, ValidationError):
        for problem in error.errors():
            location = ".".join(str(part) for part in problem.get("loc", ()))
            form_field = by_location.get(location)
            name = form_field.name if form_field else None
            errors.add(name, _pydantic_message(problem, form_field, gettext), label=labels.get(name))
        return errors
    for error_class, (name, message) in (by_error or {}).items():
        if isinstance(error, error_class):
            errors.add(name, gettext(message), label=labels.get(name))
            return errors
    named = [by_location[item] for item in error.data if isinstance(item, str) and item in by_location]
    for form_field in named:
        errors.add(form_field.name, gettext(form_field.refused), label=labels[form_field.name])
    if not named:
        errors.add(None, gettext(NOT_SAVED))
    return errors


def _pydantic_message(problem: dict, form_field: FormField | None, gettext: Callable[[str], str]) -> str:
    kind = problem.get("type")
    context = problem.get("ctx") or {}
    # An empty field is missing, whatever length the API asks of a value (an email's 3 characters).
    if kind == "missing" or (kind == "string_too_short" and (context.get("min_length") == 1
                                                             or problem.get("input") == "")):
        return gettext(FILL_IN)
    if kind == "string_too_short":
        return gettext(TOO_SHORT) % {"min_length": context.get("min_length")}
    if kind == "string_too_long":
        return gettext(TOO_LONG) % {"max_length": context.get("max_length")}
    return gettext(form_field.refused if form_field else NOT_SAVED)
