"""Captioning models: the interface, the lazy registry and the bundled models."""
