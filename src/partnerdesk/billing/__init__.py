"""The partner's billing: billing profile, credit limits, monthly invoices and their lines, reconciliation export."""
