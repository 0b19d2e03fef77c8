"""Property tests keep no timing checks: `make test` runs them in pytest-xdist
workers beside servers and Chromium on 2 cores, where Hypothesis's default
200 ms deadline and its slow-generation health check fail sound code."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def test_the_loaded_profile_has_no_deadline_and_allows_slow_generation() -> None:
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check


def test_settings_a_test_gives_start_from_the_profile() -> None:
    # `@settings(max_examples=500)` on a test keeps the profile's relaxations.
    assert settings(max_examples=500).deadline is None
