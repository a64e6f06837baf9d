"""The integration's own texts beyond entity names: notifications, calendar events, default
names. They live in strings.json under ``exceptions`` (``<key>.message``), the section Home
Assistant already loads for an integration's messages and whose placeholders hassfest checks,
and are read in Home Assistant's language (missing keys filled in from English)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN


async def async_texts(hass: HomeAssistant) -> dict[str, str]:
    """The integration's texts in Home Assistant's language."""
    return await async_get_translations(hass, hass.config.language, "exceptions", [DOMAIN])


def text(
    strings: dict[str, str],
    key: str,
    placeholders: dict[str, str] | None = None,
    *,
    default: str | None = None,
) -> str:
    """A text with its placeholders filled in.

    A key without a text gives ``default`` (formatted), else the key itself; a text whose
    placeholders do not fit gives ``default`` (formatted), else the text as it is.
    """
    values = placeholders or {}
    raw = strings.get(f"component.{DOMAIN}.exceptions.{key}.message")
    if raw is None:
        raw = default if default is not None else key
    try:
        return raw.format(**values)
    except KeyError, IndexError, ValueError:
        return default.format(**values) if default is not None else raw
