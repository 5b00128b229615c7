"""Cross-cutting pieces every domain uses: database, clock, errors, secrets, API conventions."""
