"""`partnerdesk files ...`: the operator's installation files (rule R3)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from partnerdesk.core.cli_support import fail, open_desk, out
from partnerdesk.core.errors import DeskError
from partnerdesk.software import service
from partnerdesk.software.storage import open_storage, read_file_chunks

app = typer.Typer(help="Installation files per SKU, version, language and file type.", no_args_is_help=True)

CLI_ACTOR = "cli"


def split_sku(product: str | None, sku: str) -> tuple[str, str]:
    """`--product P --sku S`, or `--sku P:S` alone."""
    if product:
        return product.strip(), sku.strip()
    product_id, colon, sku_id = sku.partition(":")
    if not colon or not product_id.strip() or not sku_id.strip():
        raise fail(f"--sku {sku}: name the product too, as --product P --sku S or --sku P:S.")
    return product_id.strip(), sku_id.strip()


@app.command("add")
def add_file(
    path: Annotated[Path, typer.Argument(help="The file to store.", exists=True, dir_okay=False, readable=True)],
    sku: Annotated[str, typer.Option(help="The SKU id (with --product), or PRODUCT:SKU.")],
    version: Annotated[str, typer.Option(help="One of the SKU's versions, such as 2022.")],
    language: Annotated[str, typer.Option(help="One of the SKU's languages, such as fr-FR.")],
    file_type: Annotated[str, typer.Option("--file-type", help='One of the SKU\'s file types, such as "ISO x64".')],
    product: Annotated[str | None, typer.Option(help="The product id, such as DG7GMGF0DVT5.")] = None,
    name: Annotated[str | None, typer.Option(help="The file name customers get (default: the file's own).")] = None,
) -> None:
    """Store an installation file, streamed with a progress bar; its SHA-256 is computed on the way."""
    product_id, sku_id = split_sku(product, sku)
    desk = open_desk()
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    new = service.NewFile(product_id=product_id, sku_id=sku_id, version=version, language=language,
                          file_type=file_type, file_name=name or path.name, content_type=content_type)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                        TimeRemainingColumn(), transient=False)
    try:
        with desk.database.session(write=False) as db:
            service.prepare_file(db, new)  # a wrong choice is refused before a progress bar appears
        with progress:
            task = progress.add_task(f"storing {path.name}", total=path.stat().st_size)
            row = service.add_file(desk.database, open_storage(desk.settings), new, read_file_chunks(path),
                                   actor=CLI_ACTOR, principal=None, now=desk.clock.now(),
                                   progress=lambda size: progress.advance(task, size))
    except DeskError as error:
        raise fail(error.description) from None
    out.print(f"stored {row.file_name} ({row.size} bytes) for {row.product_id}:{row.sku_id} {row.version} "
              f"{row.language} {row.file_type}\nsha256 {row.sha256}\nid {row.id}", highlight=False)


@app.command("list")
def list_files(
    product: Annotated[str | None, typer.Option(help="Only this product's files.")] = None,
    sku: Annotated[str | None, typer.Option(help="Only this SKU's files.")] = None,
) -> None:
    """Print the stored installation files."""
    desk = open_desk()
    with desk.database.session(write=False) as db:
        files = service.list_files(db, product_id=product, sku_id=sku)
    # Ids, names and digests are copied from here into other commands: they wrap, never get cut.
    table = Table("product:sku", "version", "language", "file type", "file", "bytes", "sha256")
    for column in table.columns:
        column.overflow = "fold"
    for row in files:
        table.add_row(f"{row.product_id}:{row.sku_id}", row.version, row.language, row.file_type, row.file_name,
                      str(row.size), row.sha256)
    out.print(table)
    if not files:
        out.print("No installation files are stored yet; add one with `partnerdesk files add`.")
