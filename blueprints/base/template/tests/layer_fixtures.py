"""Fixtures a layer or a blueprint adds to every test module: ``conftest`` imports everything
here. This layer adds none; a layer that does replaces this file."""
