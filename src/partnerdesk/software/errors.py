"""Software errors: files, key pools, purchases and download links (codes 60xx)."""

from __future__ import annotations

from partnerdesk.core.errors import DeskError


class SoftwareNotFound(DeskError):
    status_code = 404
    code = 6000


class ChoiceNotOffered(DeskError):
    """A version, language or file type the purchase's SKU does not offer (rule R3)."""

    status_code = 400
    code = 6001


class KeyPoolEmpty(DeskError):
    """No product key is left for the SKU (and version): the operator is alerted, no key is invented."""

    status_code = 409
    code = 6002


class PurchaseRevoked(DeskError):
    """The purchase was cancelled: its keys are revoked and it gets no new download links (rule R5)."""

    status_code = 409
    code = 6003


class MalformedKeys(DeskError):
    """A key file with malformed or duplicate keys: nothing of it is imported."""

    status_code = 400
    code = 6004


class FileAlreadyStored(DeskError):
    status_code = 409
    code = 6005


class InvalidFile(DeskError):
    status_code = 400
    code = 6006


class LinkNotFound(DeskError):
    status_code = 404
    code = 6010


class LinkGone(DeskError):
    """An expired, spent or revoked download link (rule R4)."""

    status_code = 410
    code = 6011


class RangeNotSatisfiable(DeskError):
    status_code = 416
    code = 6012


class FileUnavailable(DeskError):
    """The link is fine but the file store does not have the file's bytes (a broken store)."""

    status_code = 503
    code = 6013
