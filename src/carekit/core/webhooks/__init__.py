"""Outbound webhooks: subscriptions per workspace, durable deliveries with every attempt, signed bodies.

Start here: `handlers.record` turns each domain event into deliveries for matching subscriptions;
`delivery.attempt` sends one (through `http`, the one SSRF-safe client) and schedules retries;
`signing` is what receivers use to verify. Payloads are the event's ids and non-personal facts.
"""
