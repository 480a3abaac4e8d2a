"""Loyalty's event consumers (registered at start-up by apps.ready)."""
