"""Runnable examples; each one is exercised by a test under tests/examples/."""
