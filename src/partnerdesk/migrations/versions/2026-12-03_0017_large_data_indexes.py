"""indexes for lists of a million customers and ten million orders

Revision ID: 0017_large_data_indexes
Revises: 0014_sessions
Create Date: 2026-12-03 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0017_large_data_indexes'
down_revision = '0014_sessions'
branch_labels = None
depends_on = None


# Each list's index holds its whole keyset order (filter columns, then the sort key, then the id), so a page
# is one index range scan from the token's position: no sort, no rows skipped. Where the list's order mixes
# directions (newest first, then id), the index says so (DESC). Measured in bench/large_data.py.
NEW_INDEXES = (
    ("ix_customers_partner_list", "customers", ["partner_id", "company_name_folded", "id"]),
    ("ix_customers_list", "customers", ["company_name_folded", "id"]),
    ("ix_orders_customer_list", "orders", ["customer_id", sa.text("created_at DESC"), "id"]),
    ("ix_subscriptions_customer_list", "subscriptions", ["customer_id", sa.text("created_at DESC"), "id"]),
    ("ix_entitlements_customer_list", "entitlements", ["customer_id", sa.text("created_at DESC"), "id"]),
    ("ix_entitlements_customer_type_list", "entitlements",
     ["customer_id", "entitlement_type", sa.text("created_at DESC"), "id"]),
    ("ix_service_requests_partner_list", "service_requests", ["partner_id", sa.text("created_at DESC"), "id"]),
    ("ix_service_requests_customer_list", "service_requests", ["customer_id", sa.text("created_at DESC"), "id"]),
    ("ix_service_requests_list", "service_requests", [sa.text("created_at DESC"), "id"]),
    ("ix_invoices_partner_list", "invoices", ["partner_id", sa.text("billing_period DESC"), "currency", "id"]),
    ("ix_invoices_list", "invoices", [sa.text("billing_period DESC"), "currency", "id"]),
    ("ix_invoice_line_items_invoice_list", "invoice_line_items",
     ["invoice_id", "created_at", "order_id", "order_line_number", "id"]),
)
# What they replace: the same lists' indexes without the id (and the direction).
OLD_INDEXES = (
    ("ix_customers_partner_company", "customers", ["partner_id", "company_name_folded"]),
    ("ix_orders_customer", "orders", ["customer_id", "created_at"]),
    ("ix_subscriptions_customer", "subscriptions", ["customer_id", "created_at"]),
    ("ix_entitlements_customer", "entitlements", ["customer_id", "entitlement_type", "created_at"]),
    ("ix_service_requests_partner", "service_requests", ["partner_id", "created_at"]),
    ("ix_service_requests_customer", "service_requests", ["customer_id", "created_at"]),
    ("ix_invoice_line_items_invoice", "invoice_line_items", ["invoice_id", "created_at"]),
)


def upgrade() -> None:
    for name, table, columns in NEW_INDEXES:
        op.create_index(name, table, columns)
    for name, table, _columns in OLD_INDEXES:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in OLD_INDEXES:
        op.create_index(name, table, columns)
    for name, table, _columns in NEW_INDEXES:
        op.drop_index(name, table_name=table)
