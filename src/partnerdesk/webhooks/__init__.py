"""Outbound webhooks: domain events signed and delivered to the partners' endpoints (Standard Webhooks)."""
