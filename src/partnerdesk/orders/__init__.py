"""Buying for a customer (rule R2): carts, checkout, orders, subscriptions and entitlements."""
