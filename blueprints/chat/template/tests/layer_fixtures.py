"""Fixtures in every test module (``conftest`` imports this module): the chat layer's, from
``tests.chat_fixtures``. A blueprint on this layer that adds its own replaces this file and
imports those too."""

from tests.chat_fixtures import *  # noqa: F403
