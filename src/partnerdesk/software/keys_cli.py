"""`partnerdesk keys ...`: the operator's product-key pools (keys are encrypted as they are imported)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import track
from rich.table import Table

from partnerdesk.core.cli_support import fail, open_desk, out
from partnerdesk.core.errors import DeskError
from partnerdesk.software import service
from partnerdesk.software.cli import split_sku

app = typer.Typer(help="Product-key pools per SKU (and version where keys differ).", no_args_is_help=True)


@app.command("import")
def import_keys(
    file: Annotated[Path, typer.Argument(help="One key per line; blank lines and # comments are skipped.",
                                         exists=True, dir_okay=False, readable=True)],
    sku: Annotated[str, typer.Option(help="The SKU id (with --product), or PRODUCT:SKU.")],
    product: Annotated[str | None, typer.Option(help="The product id, such as DG7GMGF0DVT5.")] = None,
    version: Annotated[str, typer.Option(help="Only for this version (default: keys for every version).")] = "",
) -> None:
    """Add keys to a pool: all of the file or none of it (malformed and duplicate keys are named by line)."""
    product_id, sku_id = split_sku(product, sku)
    try:
        lines = file.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise fail(f"{file}: not a text file in UTF-8.") from None
    desk = open_desk()
    try:
        with desk.database.session() as db:
            done = service.import_keys(db, desk.keyring, product_id=product_id, sku_id=sku_id, version=version,
                                       lines=track(lines, description="encrypting keys", transient=True),
                                       principal=None, now=desk.clock.now())
    except DeskError as error:
        raise fail(error.description) from None
    pool = f"{done.product_id}:{done.sku_id}" + (f" version {done.version}" if done.version else "")
    out.print(f"imported {done.imported} key(s) into {pool}; {done.available} available", highlight=False)


@app.command("status")
def pool_status(
    product: Annotated[str | None, typer.Option(help="Only this product's pools.")] = None,
    sku: Annotated[str | None, typer.Option(help="Only this SKU's pools.")] = None,
) -> None:
    """How many keys each pool has left, has issued and has revoked."""
    desk = open_desk()
    with desk.database.session(write=False) as db:
        pools = service.pool_counts(db, product_id=product, sku_id=sku)
    table = Table("product:sku", "version", "available", "issued", "revoked")
    for pool in pools:
        table.add_row(f"{pool.product_id}:{pool.sku_id}", pool.version or "(every version)", str(pool.available),
                      str(pool.issued), str(pool.revoked))
    out.print(table)
    if not pools:
        out.print("No key pools yet; import keys with `partnerdesk keys import --sku PRODUCT:SKU FILE`.")
