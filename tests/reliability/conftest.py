"""Reliability tests: short forms run by default (CI); long forms are marked ``slow`` and run with
``pytest tests/reliability -m slow`` (or ``CONVENE_RELIABILITY_LONG=1``; the hook is in tests/conftest.py)."""
