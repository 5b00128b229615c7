"""Customers: the partners' client companies (tenants), each with a domain and a market."""
