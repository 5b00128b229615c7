"""Durable background jobs: stored in the database, claimed under a lease, retried with backoff."""
