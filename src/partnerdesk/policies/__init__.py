"""Operator policies: the rules' numbers and lists (R1's markets, R4's link limits, R5's window) as data."""
