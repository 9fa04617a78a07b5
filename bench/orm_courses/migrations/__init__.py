"""The peer's tables."""
