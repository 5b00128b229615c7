"""Alembic migrations, applied with `partnerdesk db upgrade` (and by `serve` on SQLite)."""
