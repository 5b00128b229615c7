"""Demo data: a small VM rate table (a few Dsv5 and Esv5 sizes in some regions), from the CSV beside it. Idempotent.

The figures are illustrative list prices of the kind the operator imports; they are read from this
file, never fetched.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnerdesk.hybrid import service
from partnerdesk.hybrid.models import VmRate

DEMO_RATES = Path(__file__).parent / "data" / "demo_rates.csv"


def load(db: Session, now: datetime, log: Callable[[str], None]) -> None:
    """Imports the demo rate table when the operator has imported none."""
    if db.scalar(select(func.count()).select_from(VmRate)):
        return
    with DEMO_RATES.open(newline="", encoding="utf-8") as handle:
        report = service.import_rates(db, handle, now=now, principal=None)
    log(f"demo: {report.added} VM rates for the Hybrid Benefit calculator added")
