"""Benchmarks: run as scripts (python bench/NAME.py); they print figures and are never tests."""
