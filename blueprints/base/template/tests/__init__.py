"""Tests of the app; run them with ``pytest`` from the project root."""
