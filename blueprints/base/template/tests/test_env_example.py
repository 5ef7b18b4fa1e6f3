"""`.env.example` means the same wherever its values go: read from `.env` by the app, or pasted
into the Space's Variables form (which takes a value literally, without quotes or escapes)."""

from __future__ import annotations

from pathlib import Path

from dotenv import dotenv_values
from pydantic import AliasChoices

from app.config import Settings

ENV_EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def written_values() -> dict[str, str]:
    """Each ``NAME=value`` line's value exactly as written."""
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_every_value_pastes_into_the_variables_form_as_it_is_read_from_env() -> None:
    parsed = dotenv_values(ENV_EXAMPLE)
    for name, written in written_values().items():
        pasted = written[1:-1] if written[:1] == written[-1:] == "'" else written
        assert pasted == parsed[name], (name, written, parsed[name])


def test_every_setting_is_documented() -> None:
    documented = {name.lower() for name in written_values()}
    documented |= {
        line.removeprefix("# ").partition("=")[0].lower()
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line.startswith("# ") and "=" in line and line[2:].split("=")[0].isupper()
    }
    missing = [
        name for name, field in Settings.model_fields.items() if not names(name, field) & documented
    ]
    assert not missing, f"not in .env.example: {sorted(missing)}"


def names(name: str, field: object) -> set[str]:
    """The environment variable names a setting is read from, lowercased."""
    alias = getattr(field, "validation_alias", None)
    if isinstance(alias, AliasChoices):
        return {str(choice).lower() for choice in alias.choices}
    return {str(alias).lower()} if isinstance(alias, str) else {name}


def test_the_defaults_of_env_example_are_the_apps_defaults() -> None:
    from_file = Settings(_env_file=ENV_EXAMPLE)
    built_in = Settings(_env_file=None)
    assert from_file.model_dump() == built_in.model_dump()
