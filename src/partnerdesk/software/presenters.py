"""The API shapes of software purchases, keys and links, and the page a refused link shows a browser."""

from __future__ import annotations

from html import escape

from partnerdesk.core.errors import DeskError
from partnerdesk.core.schemas import Link
from partnerdesk.software import service
from partnerdesk.software.schemas import DownloadOut, KeysAndDownloadsOut, ProductKeyOut, SoftwareOut


def software_out(item: service.SoftwareItem) -> SoftwareOut:
    purchase = item.purchase
    base = f"/v1/customers/{purchase.customer_id}"
    return SoftwareOut(
        id=purchase.entitlement_id, order_id=purchase.order_id, line_item_number=purchase.line_item_number,
        subscription_id=purchase.subscription_id, product_id=purchase.product_id, sku_id=purchase.sku_id,
        title=purchase.title, purchase_date=purchase.purchase_date, status=purchase.status,
        quantity=purchase.quantity, versions=list(item.choices.versions), languages=list(item.choices.languages),
        file_types=list(item.choices.file_types),
        links={"self": Link(uri=f"{base}/software/{purchase.entitlement_id}"),
               "order": Link(uri=f"{base}/orders/{purchase.order_id}"),
               "keysAndDownloads": Link(uri=f"{base}/software/{purchase.entitlement_id}/keysanddownloads",
                                        method="POST")},
    )


def keys_and_downloads_out(result: service.KeysAndDownloads, *, base_url: str) -> KeysAndDownloadsOut:
    return KeysAndDownloadsOut(
        software_id=result.software.purchase.entitlement_id, version=result.choice.version,
        language=result.choice.language, file_type=result.choice.file_type,
        product_keys=[ProductKeyOut(key=key.key, status=key.status) for key in result.keys],
        downloads=[DownloadOut(file_name=link.file.file_name, size=link.file.size, sha256=link.file.sha256,
                               uri=service.download_uri(base_url, link.token), expires_at=link.expires_at,
                               downloads_remaining=link.downloads_remaining)
                   for link in result.links],
    )


_TITLES = {404: "Download link not found", 410: "Download link no longer valid",
           416: "Requested range not available", 503: "Download not available for the moment"}


_ASK_AGAIN_FR = " Demandez un nouveau lien au revendeur qui vous l'a envoyé."
_FRENCH: dict[object, str] = {
    404: "Ce lien de téléchargement n'existe pas. Vérifiez que le lien a été copié en entier.",
    "expired": "Ce lien de téléchargement a expiré." + _ASK_AGAIN_FR,
    "used_up": "Ce lien de téléchargement a servi pour tous ses téléchargements." + _ASK_AGAIN_FR,
    "revoked": "Ce lien de téléchargement a été révoqué car l'achat a été annulé.",
    416: "La plage d'octets demandée dépasse la fin du fichier.",
    503: "Ce fichier ne peut pas être téléchargé pour le moment ; le téléchargement n'a pas été compté. "
         "Réessayez plus tard.",
}


def refusal_page(error: DeskError) -> str:
    """A short, self-contained page (no scripts, no external resources) for a refused download link.

    Written in English and French: the customer holding the link has no account, so no language to go by
    beyond the link itself."""
    title = _TITLES.get(error.status_code, "Download not available")
    french = _FRENCH.get(str(error.data[0]) if error.status_code == 410 and error.data else error.status_code, "")
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta name=\"robots\" content=\"noindex\">"
        f"<title>{escape(title)} - Partner Desk</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;"
        "line-height:1.5;color:#1b1b1b}h1{font-size:1.4rem}p.code{color:#555;font-size:.9rem}</style></head>"
        f"<body><main><h1>{escape(title)}</h1><p>{escape(error.description)}</p>"
        f"<p lang=\"fr\">{escape(french)}</p>"
        f"<p class=\"code\">HTTP {error.status_code} &middot; code {error.code}</p></main></body></html>"
    )
