"""Running the desk: health and readiness probes, Prometheus metrics, JSON request logs, backup and restore.

See docs/operations.md.
"""
