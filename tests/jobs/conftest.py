"""The worker tests drive real webhook deliveries, so they share the webhook tests' fixtures."""

from tests.webhooks.conftest import receiver, wide_console  # noqa: F401 - fixtures used by name
