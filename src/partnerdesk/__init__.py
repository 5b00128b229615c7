"""Partner Desk: a self-hostable commerce desk for cloud resellers."""

__version__ = "0.1.0"
