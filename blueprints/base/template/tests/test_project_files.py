"""The files around the code: hash-pinned requirements, a README that never asks for an edit
that would break the build, and a Dockerfile whose base image and Dev Mode support the README
describes."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.edge import wrap
from app.main import create_api
from tests.support import MakeSettings

ROOT = Path(__file__).resolve().parent.parent


def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def requirement_lines(name: str) -> list[str]:
    """The requirements of a file, each with its continuation lines joined."""
    text = read(name).replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt"])
def test_every_requirement_is_pinned_with_a_hash(name: str) -> None:
    for line in requirement_lines(name):
        if line.startswith("-r "):
            continue
        assert re.match(r"^[A-Za-z0-9._\[\],-]+==\S+ ", line), line
        assert "--hash=sha256:" in line, line


def test_the_readme_never_asks_to_edit_the_requirements_by_hand() -> None:
    readme = read("README.md")
    assert not re.search(r"[Aa]dd [`'\"]?[\w-]+[`'\"]? to [`'\"]?requirements", readme)


def test_a_postgres_url_gets_its_driver_or_says_how(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    """With the driver pinned, a Postgres URL gets as far as connecting; without it, the log
    says how to get it pinned, never to edit requirements.txt."""
    pinned = any(line.startswith("asyncpg==") for line in requirement_lines("requirements.txt"))
    settings = make_settings(database_url="postgresql://user:pw@127.0.0.1:9/app")
    with (
        caplog.at_level(logging.ERROR, logger="app"),
        TestClient(wrap(create_api(settings), settings)) as client,
    ):
        message = client.get("/health").json()["dependencies"]["database"]["message"]
    if pinned:
        assert "driver" not in message, message
    else:
        assert message == "startup failed: the driver is not installed"
        assert "postgres = true" in caplog.text
        assert not re.search(r"[Aa]dd .* to [`'\"]?requirements", caplog.text)


def test_the_readme_names_the_base_image_and_how_to_pin_it() -> None:
    match = re.search(r"^FROM (\S+)", read("Dockerfile"), re.MULTILINE)
    assert match is not None
    image = match.group(1)
    readme = read("README.md")
    assert f"FROM {image}" in readme or f"`{image}`" in readme
    assert f"{image}@sha256:" in readme


def test_dev_mode_tools_and_the_readme_agree() -> None:
    dockerfile = read("Dockerfile")
    tools = ("bash", "curl", "wget", "procps", "git", "git-lfs")
    dev_mode = "git-lfs" in dockerfile
    if dev_mode:
        install = next(line for line in dockerfile.splitlines() if "apt-get install" in line)
        assert all(re.search(rf"\b{re.escape(tool)}\b", install) for tool in tools)
        assert "Dev Mode** (bash" not in read("README.md")
    assert "WORKDIR /app" in dockerfile
    assert ("generate the project with `dev_mode = true`" in read("README.md")) != dev_mode
