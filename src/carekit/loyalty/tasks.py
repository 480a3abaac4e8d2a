"""Loyalty's jobs (thin: load by id, call a service)."""
