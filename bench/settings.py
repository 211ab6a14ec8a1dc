"""Benchmark settings: cxhub's, plus a bare view (bench/urls.py) to measure the ceiling."""

from cxhub.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
