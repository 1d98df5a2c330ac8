"""Hypothesis settings for the suite: derandomized, so a verdict does not change between runs."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "streamspec",
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    report_multiple_bugs=False,  # the first failing example ends the case: a dead server costs one wait
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("streamspec")
