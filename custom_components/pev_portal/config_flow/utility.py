"""The utility link (OpenADR 3.1 VTN): its form, its live test, and the steps that set it, change it and re-authenticate it."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import probatio as vol
import yarl
from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector

from ..const import (
    AUTH_CLIENT_CREDENTIALS,
    AUTH_NONE,
    AUTH_TOKEN,
    CONF_ALLOW_HTTP,
    CONF_AUTH_TYPE,
    CONF_CA_BUNDLE,
    CONF_CALLBACK_URL,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_PREMISE_ID,
    CONF_PREMISE_NAME,
    CONF_PROGRAMS,
    CONF_TOKEN,
    CONF_UTILITY,
    CONF_UTILITY_ID,
    CONF_VEN_NAME,
    CONF_VTN_URL,
)
from .helpers import _password


def _utility_schema(defaults: dict[str, Any], premise_id: str) -> vol.Schema:
    def suggested(key: str) -> dict[str, Any]:
        return {"suggested_value": defaults.get(key)}

    return vol.Schema(
        {
            vol.Optional(CONF_VTN_URL, description=suggested(CONF_VTN_URL)): selector.TextSelector(
                selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
            ),
            vol.Required(
                CONF_AUTH_TYPE, default=defaults.get(CONF_AUTH_TYPE, AUTH_CLIENT_CREDENTIALS)
            ): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=[AUTH_CLIENT_CREDENTIALS, AUTH_TOKEN, AUTH_NONE],
                    translation_key=CONF_AUTH_TYPE,
                )
            ),
            vol.Optional(CONF_CLIENT_ID, description=suggested(CONF_CLIENT_ID)): str,
            vol.Optional(CONF_CLIENT_SECRET): _password(),
            vol.Optional(CONF_TOKEN): _password(),
            vol.Optional(
                CONF_VEN_NAME,
                description={"suggested_value": defaults.get(CONF_VEN_NAME) or premise_id},
            ): str,
            vol.Optional(CONF_PROGRAMS, description=suggested(CONF_PROGRAMS)): str,
            vol.Optional(CONF_UTILITY_ID, description=suggested(CONF_UTILITY_ID)): str,
            vol.Optional(CONF_CA_BUNDLE, description=suggested(CONF_CA_BUNDLE)): str,
            vol.Optional(CONF_ALLOW_HTTP, default=defaults.get(CONF_ALLOW_HTTP, False)): bool,
            vol.Optional(CONF_CALLBACK_URL, description=suggested(CONF_CALLBACK_URL)): str,
        }
    )


def _utility_data(user_input: dict[str, Any], premise_id: str) -> dict[str, Any]:
    """The link's stored form: programs as a list, the VEN name defaulting to the premise ID."""
    programs = user_input.get(CONF_PROGRAMS) or []
    if isinstance(programs, str):
        programs = [p.strip() for p in programs.split(",") if p.strip()]
    data = {
        CONF_VTN_URL: user_input[CONF_VTN_URL].strip().rstrip("/"),
        CONF_AUTH_TYPE: user_input.get(CONF_AUTH_TYPE, AUTH_CLIENT_CREDENTIALS),
        CONF_VEN_NAME: (user_input.get(CONF_VEN_NAME) or premise_id).strip(),
        CONF_PROGRAMS: programs,
        CONF_ALLOW_HTTP: bool(user_input.get(CONF_ALLOW_HTTP)),
    }
    for key in (
        CONF_CLIENT_ID,
        CONF_CLIENT_SECRET,
        CONF_TOKEN,
        CONF_UTILITY_ID,
        CONF_CA_BUNDLE,
        CONF_CALLBACK_URL,
    ):
        if value := (user_input.get(key) or "").strip():
            data[key] = value
    return data


async def _async_test_link(
    hass: HomeAssistant, link: dict[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    """Check the link's settings, then talk to the VTN: errors for the form, and details."""
    from ..openadr.errors import (
        OpenADRError,
        UnknownProgram,
        VtnAuthError,
        VtnTlsError,
        VtnUnreachable,
    )
    from ..utility import async_make_client

    url = yarl.URL(link[CONF_VTN_URL])
    if url.scheme not in ("http", "https") or not url.host:
        return {CONF_VTN_URL: "invalid_url"}, {"detail": ""}
    if url.scheme == "http" and not link.get(CONF_ALLOW_HTTP):
        return {CONF_VTN_URL: "insecure_http"}, {"detail": ""}
    auth = link[CONF_AUTH_TYPE]
    if auth == AUTH_CLIENT_CREDENTIALS and not (
        link.get(CONF_CLIENT_ID) and link.get(CONF_CLIENT_SECRET)
    ):
        return {"base": "missing_credentials"}, {"detail": ""}
    if auth == AUTH_TOKEN and not link.get(CONF_TOKEN):
        return {CONF_TOKEN: "missing_token"}, {"detail": ""}
    bundle = link.get(CONF_CA_BUNDLE)
    if bundle and not await hass.async_add_executor_job(Path(bundle).is_file):
        return {CONF_CA_BUNDLE: "ca_bundle_not_found"}, {"detail": ""}
    try:
        client = await async_make_client(hass, link)
        await client.async_check(link[CONF_PROGRAMS])
    except ssl.SSLError as err:
        return {CONF_CA_BUNDLE: "invalid_ca_bundle"}, {"detail": str(err)}
    except VtnUnreachable as err:
        return {"base": "cannot_connect"}, {"detail": str(err)}
    except VtnTlsError as err:
        return {"base": "tls_error"}, {"detail": str(err)}
    except VtnAuthError as err:
        return {"base": "invalid_auth"}, {"detail": str(err)}
    except UnknownProgram as err:
        return {CONF_PROGRAMS: "unknown_program"}, {"detail": str(err)}
    except OpenADRError as err:
        return {"base": "vtn_error"}, {"detail": str(err)}
    return {}, {"detail": ""}


class UtilitySteps(ConfigFlow):
    """The config flow's utility-link steps: set it up, change it (reconfigure), re-authenticate.

    Mixed into the config flow (which registers itself with ``domain=DOMAIN``); this base
    registers nothing.
    """

    _data: dict[str, Any]
    _utility: dict[str, Any] | None

    if TYPE_CHECKING:
        # The config flow's charger step (ChargerSteps), declared for type checkers only.
        async def async_step_charger(
            self, user_input: dict[str, Any] | None = None
        ) -> ConfigFlowResult: ...

    async def async_step_utility(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The utility link (an OpenADR 3.1 VTN), tested live; leave the URL empty for none."""
        errors: dict[str, str] = {}
        placeholders = {"detail": ""}
        if user_input is not None:
            if not (user_input.get(CONF_VTN_URL) or "").strip():
                self._utility = None
                return await self.async_step_charger()
            link = _utility_data(user_input, self._data[CONF_PREMISE_ID])
            errors, placeholders = await _async_test_link(self.hass, link)
            if not errors:
                self._utility = link
                return await self.async_step_charger()
        return self.async_show_form(
            step_id="utility",
            data_schema=_utility_schema(user_input or {}, self._data.get(CONF_PREMISE_ID, "")),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reconfigure_utility(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the utility link: URL, credentials (blank secrets keep the stored ones)."""
        entry = self._get_reconfigure_entry()
        current: dict[str, Any] = dict(entry.data.get(CONF_UTILITY) or {})
        errors: dict[str, str] = {}
        placeholders = {"detail": ""}
        if user_input is not None:
            utility: dict[str, Any] | None = None
            if (user_input.get(CONF_VTN_URL) or "").strip():
                for secret in (CONF_CLIENT_SECRET, CONF_TOKEN):
                    if not user_input.get(secret) and current.get(secret):
                        user_input[secret] = current[secret]
                utility = _utility_data(user_input, self._data[CONF_PREMISE_ID])
                errors, placeholders = await _async_test_link(self.hass, utility)
            if not errors:
                data = {**entry.data, **self._data}
                data.pop(CONF_UTILITY, None)
                if utility is not None:
                    data[CONF_UTILITY] = utility
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=self._data[CONF_PREMISE_ID],
                    title=self._data[CONF_PREMISE_NAME],
                    data=data,
                )
        defaults = user_input or {
            k: v for k, v in current.items() if k not in (CONF_CLIENT_SECRET, CONF_TOKEN)
        }
        if CONF_PROGRAMS in defaults and isinstance(defaults[CONF_PROGRAMS], list):
            defaults[CONF_PROGRAMS] = ", ".join(defaults[CONF_PROGRAMS])
        return self.async_show_form(
            step_id="reconfigure_utility",
            data_schema=_utility_schema(defaults, self._data[CONF_PREMISE_ID]),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The VTN refuses the stored credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enter new credentials for the utility link; they are tested before they are kept."""
        entry = self._get_reauth_entry()
        current: dict[str, Any] = dict(entry.data.get(CONF_UTILITY) or {})
        errors: dict[str, str] = {}
        placeholders = {"detail": "", "url": current.get(CONF_VTN_URL, "")}
        if user_input is not None:
            utility = {**current, **{k: v for k, v in user_input.items() if v}}
            errors, found = await _async_test_link(self.hass, utility)
            placeholders.update(found)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data={**entry.data, CONF_UTILITY: utility}
                )
        fields: dict[vol.Marker, Any] = {}
        if current.get(CONF_AUTH_TYPE) == AUTH_TOKEN:
            fields[vol.Required(CONF_TOKEN)] = _password()
        else:
            fields[vol.Required(CONF_CLIENT_ID, default=current.get(CONF_CLIENT_ID, ""))] = str
            fields[vol.Required(CONF_CLIENT_SECRET)] = _password()
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema(fields),
            errors=errors,
            description_placeholders=placeholders,
        )
