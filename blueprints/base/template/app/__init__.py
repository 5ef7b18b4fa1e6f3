"""The FastAPI backend served by this Space."""

__version__ = "0.1.0"
