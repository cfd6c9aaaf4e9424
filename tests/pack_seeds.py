"""Hypothesis settings for properties over whole generated scenario packs (a pack takes a while)."""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

SEEDS = st.integers(min_value=0, max_value=2**31)
FEW = settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
