"""The activity log: an append-only record of who did what, when, on which object."""
