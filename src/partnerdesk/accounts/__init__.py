"""Partners, agents with roles, passwords and API tokens."""
