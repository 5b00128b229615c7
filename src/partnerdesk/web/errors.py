"""Why a portal page was not shown: each kind has its status and a translatable title and text."""

from __future__ import annotations

from typing import ClassVar

from partnerdesk.web.i18n import N_


class PageError(Exception):
    """Raised by portal routes; rendered as a page in the reader's language (see `handlers`)."""

    status_code: ClassVar[int] = 400
    title: ClassVar[str] = N_("This request could not be handled")
    message: ClassVar[str] = N_("Go back to the previous page and try again.")

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.title)
        # English technical detail shown under the translated text, never a secret.
        self.detail = detail


class PageNotFound(PageError):
    status_code = 404
    title = N_("Page not found")
    message = N_("There is nothing at this address, or it is not yours to see.")


class PageForbidden(PageError):
    status_code = 403
    title = N_("Not allowed")
    message = N_("Your role may not open this page.")


class FormExpired(PageError):
    """The form's CSRF token is missing or is not this session's: nothing was changed."""

    status_code = 403
    title = N_("This form has expired")
    message = N_(
        "The form was not sent from this session, or your session ended. Nothing was changed. "
        "Open the page again and resend the form."
    )


class SignInRequired(Exception):
    """No agent is signed in (or it was disabled): the reader is sent to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign-in required")
        self.next_path = next_path
