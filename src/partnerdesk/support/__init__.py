"""Support requests (Partner Center service requests) and refund requests filed through them (rule R6)."""
