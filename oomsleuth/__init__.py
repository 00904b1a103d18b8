"""oomsleuth: post-mortem forensics for Linux OOM kills."""

__version__ = "0.1.0"
