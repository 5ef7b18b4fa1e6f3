"""Logging for the app's own modules (the ``app`` logger tree).

Only ``app`` gets a handler and a level: configuring the root logger at INFO would also make
SQLAlchemy log every SQL statement. uvicorn configures its own loggers.
"""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    logger = logging.getLogger("app")
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        logger.addHandler(handler)
