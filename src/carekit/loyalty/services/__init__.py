"""Loyalty's write path. Every function runs inside the caller's transaction (ARCHITECTURE.md rule 8)."""
