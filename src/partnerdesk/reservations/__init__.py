"""Azure subscriptions of customers, their registration for reservations, and Reserved Instance artifacts."""
