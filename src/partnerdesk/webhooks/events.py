"""The event types the desk publishes. Adding one is one line here, then a `publish_event` call."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    # False for events an endpoint cannot subscribe to, such as the test ping.
    subscribable: bool = True


TEST_EVENT = "webhook.test"

EVENT_TYPES: dict[str, EventType] = {
    event.name: event
    for event in (
        EventType("order.created", "An order was placed and charged to the partner's billing."),
        EventType("order.cancelled", "Order line items were cancelled (rule R5); the partner was credited."),
        EventType("entitlement.revoked", "A product key was revoked and the download links of its purchase "
                                         "stopped working."),
        EventType(TEST_EVENT, "A test ping, sent on request to one endpoint.", subscribable=False),
    )
}


def subscribable_event_types() -> list[str]:
    return [name for name, event in EVENT_TYPES.items() if event.subscribable]
