from django.apps import AppConfig


class ProbeConfig(AppConfig):
    """Instrumented handlers for tests and benchmarks; installed only when CAREKIT_PROBES=1 or under test."""

    name = "carekit.core.probe"
    label = "probe"
