"""The utility link (OpenADR 3.1 VTN, or 2.0b: ``utility2.py`` beside this): its form, its live
test, and the steps that set it (with the premise ID, in a utility program), change it
(reconfigure) and re-authenticate it."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import probatio as vol
import yarl
from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
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
    CONF_DEFAULT_BINDING,
    CONF_DEFAULT_OPT,
    CONF_IN_PROGRAM,
    CONF_INTERVAL_MINUTES,
    CONF_MANDATORY_PROGRAMS,
    CONF_PREMISE_ID,
    CONF_PREMISE_NAME,
    CONF_PROGRAMS,
    CONF_PROTOCOL,
    CONF_TOKEN,
    CONF_UTILITY,
    CONF_UTILITY_ID,
    CONF_VALIDATION_WINDOW,
    CONF_VEN_CERT,
    CONF_VEN_KEY,
    CONF_VEN_NAME,
    CONF_VTN_FINGERPRINT,
    CONF_VTN_URL,
    DEFAULT_INTERVAL_MINUTES,
    DEFAULT_VALIDATION_WINDOW,
    PROTOCOL_OADR2,
    PROTOCOL_OADR3,
    SECTION_ADVANCED,
)
from .helpers import _password
from .premise import _metering_schema, _validate_metering, _validate_premise_id

ADVANCED_KEYS = (CONF_VEN_NAME, CONF_UTILITY_ID, CONF_CA_BUNDLE, CONF_ALLOW_HTTP, CONF_CALLBACK_URL)
_REAUTH_KEYS = frozenset(
    {
        CONF_TOKEN,
        CONF_CLIENT_ID,
        CONF_CLIENT_SECRET,
        CONF_VEN_CERT,
        CONF_VEN_KEY,
        CONF_VTN_FINGERPRINT,
    }
)
"""The fields of the reauthentication forms (3.1: token or client credentials; 2.0b: identity)."""
_REAUTH_FIELD_OF = {"vtn_fingerprint_mismatch": CONF_VTN_FINGERPRINT}
"""The reauthentication form's field of an error the set-up form shows on its section."""
# Bearer token first (what most utilities issue a home), no authentication, then OAuth 2.
AUTH_TYPES = [AUTH_TOKEN, AUTH_NONE, AUTH_CLIENT_CREDENTIALS]


def _utility_schema(
    defaults: dict[str, Any], premise_id: str, *, set_up: bool = False
) -> vol.Schema:
    """The utility step's form; at set-up also the premise ID and the metering settings.

    The rarely needed settings (VEN name, utility ID, CA bundle, plain HTTP, callback URL and,
    at set-up, the metering interval and validation window) are in a collapsed section.
    """

    def suggested(key: str) -> dict[str, Any]:
        return {"suggested_value": defaults.get(key)}

    fields: dict[vol.Marker, Any] = {}
    if set_up:
        fields[
            vol.Required(CONF_PREMISE_ID, default=defaults.get(CONF_PREMISE_ID, vol.UNDEFINED))
        ] = str
    fields.update(
        {
            vol.Optional(CONF_VTN_URL, description=suggested(CONF_VTN_URL)): selector.TextSelector(
                selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
            ),
            vol.Required(
                CONF_AUTH_TYPE, default=defaults.get(CONF_AUTH_TYPE, AUTH_TOKEN)
            ): selector.SelectSelector(
                selector.SelectSelectorConfig(options=AUTH_TYPES, translation_key=CONF_AUTH_TYPE)
            ),
            vol.Optional(CONF_TOKEN): _password(),
            vol.Optional(CONF_CLIENT_ID, description=suggested(CONF_CLIENT_ID)): str,
            vol.Optional(CONF_CLIENT_SECRET): _password(),
            vol.Optional(CONF_PROGRAMS, description=suggested(CONF_PROGRAMS)): str,
        }
    )
    advanced: dict[vol.Marker, Any] = {
        vol.Optional(
            CONF_VEN_NAME,
            description={"suggested_value": defaults.get(CONF_VEN_NAME) or premise_id or None},
        ): str,
        vol.Optional(CONF_UTILITY_ID, description=suggested(CONF_UTILITY_ID)): str,
        vol.Optional(CONF_CA_BUNDLE, description=suggested(CONF_CA_BUNDLE)): str,
        vol.Optional(CONF_ALLOW_HTTP, default=bool(defaults.get(CONF_ALLOW_HTTP, False))): bool,
        vol.Optional(CONF_CALLBACK_URL, description=suggested(CONF_CALLBACK_URL)): str,
        **_oadr2_fields(defaults),
    }
    shown = {
        CONF_ALLOW_HTTP: bool(defaults.get(CONF_ALLOW_HTTP, False)),
        CONF_PROTOCOL: defaults.get(CONF_PROTOCOL, PROTOCOL_OADR3),
        CONF_DEFAULT_OPT: defaults.get(CONF_DEFAULT_OPT, "optIn"),
        CONF_DEFAULT_BINDING: defaults.get(CONF_DEFAULT_BINDING, "enrolled"),
    }
    if set_up:
        advanced.update(_metering_schema(defaults))
        shown[CONF_INTERVAL_MINUTES] = defaults.get(CONF_INTERVAL_MINUTES, DEFAULT_INTERVAL_MINUTES)
        shown[CONF_VALIDATION_WINDOW] = defaults.get(
            CONF_VALIDATION_WINDOW, DEFAULT_VALIDATION_WINDOW
        )
    fields[vol.Required(SECTION_ADVANCED, default=shown)] = section(
        vol.Schema(advanced), {"collapsed": True}
    )
    return vol.Schema(fields)


def _oadr2_fields(defaults: dict[str, Any]) -> dict[vol.Marker, Any]:
    """The advanced section's protocol choice and the OpenADR 2.0b settings."""

    def suggested(key: str) -> dict[str, Any]:
        value = defaults.get(key)
        if isinstance(value, list):
            value = ", ".join(value)
        return {"suggested_value": value}

    return {
        vol.Optional(
            CONF_PROTOCOL, default=defaults.get(CONF_PROTOCOL, PROTOCOL_OADR3)
        ): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=[PROTOCOL_OADR3, PROTOCOL_OADR2], translation_key=CONF_PROTOCOL
            )
        ),
        vol.Optional(CONF_VTN_FINGERPRINT, description=suggested(CONF_VTN_FINGERPRINT)): str,
        vol.Optional(CONF_VEN_CERT, description=suggested(CONF_VEN_CERT)): str,
        vol.Optional(CONF_VEN_KEY, description=suggested(CONF_VEN_KEY)): str,
        vol.Optional(CONF_MANDATORY_PROGRAMS, description=suggested(CONF_MANDATORY_PROGRAMS)): str,
        vol.Optional(
            CONF_DEFAULT_OPT, default=defaults.get(CONF_DEFAULT_OPT, "optIn")
        ): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=["optIn", "optOut"], translation_key=CONF_DEFAULT_OPT
            )
        ),
        vol.Optional(
            CONF_DEFAULT_BINDING, default=defaults.get(CONF_DEFAULT_BINDING, "enrolled")
        ): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=["enrolled", "not_enrolled"], translation_key=CONF_DEFAULT_BINDING
            )
        ),
    }


def _flat(user_input: dict[str, Any]) -> dict[str, Any]:
    """The form's values with the advanced section's moved to the top level."""
    values = {k: v for k, v in user_input.items() if k != SECTION_ADVANCED}
    values.update(user_input.get(SECTION_ADVANCED) or {})
    return values


def _utility_data(user_input: dict[str, Any], premise_id: str) -> dict[str, Any]:
    """The link's stored form: programs as a list, the VEN name defaulting to the premise ID."""
    programs = user_input.get(CONF_PROGRAMS) or []
    if isinstance(programs, str):
        programs = [p.strip() for p in programs.split(",") if p.strip()]
    data = {
        CONF_VTN_URL: user_input[CONF_VTN_URL].strip().rstrip("/"),
        CONF_AUTH_TYPE: user_input.get(CONF_AUTH_TYPE, AUTH_TOKEN),
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
    if user_input.get(CONF_PROTOCOL) == PROTOCOL_OADR2:  # only then: 3.1 links stay as they were
        from .utility2 import oadr2_data

        data.update(oadr2_data(user_input))
    return data


@dataclass(frozen=True)
class LinkTest:
    """The live test's outcome: errors for the form, their detail, and the configured
    programs the VEN cannot see yet (the link is usable: they wait for the utility)."""

    errors: dict[str, str]
    detail: str = ""
    missing: list[str] = field(default_factory=list)

    @property
    def placeholders(self) -> dict[str, str]:
        """The form's description placeholders."""
        return {"detail": self.detail}


async def _async_test_link(hass: HomeAssistant, link: dict[str, Any]) -> LinkTest:
    """Check the link's settings, then talk to the VTN: authenticate, register the VEN (so the
    utility can grant it the program) and see which programs it can see.

    A program the VEN cannot see yet is not an error: a program targeted only at the premise is
    private until the utility grants the VEN one of its targets, which it can only do once the
    VEN exists (``openadr/enrollment.py``). It is returned as ``missing`` (pending).
    """
    from ..openadr.enrollment import async_program_status
    from ..openadr.errors import (
        OpenADRError,
        VtnAuthError,
        VtnTlsError,
        VtnUnreachable,
    )
    from ..utility import async_make_client

    url = yarl.URL(link[CONF_VTN_URL])
    if url.scheme not in ("http", "https") or not url.host:
        return LinkTest({CONF_VTN_URL: "invalid_url"})
    if url.scheme == "http" and not link.get(CONF_ALLOW_HTTP):
        return LinkTest({CONF_VTN_URL: "insecure_http"})
    if link.get(CONF_PROTOCOL) == PROTOCOL_OADR2:
        from .utility2 import async_test_link2

        errors, detail = await async_test_link2(hass, link)
        return LinkTest(errors, detail)
    auth = link[CONF_AUTH_TYPE]
    if auth == AUTH_CLIENT_CREDENTIALS and not (
        link.get(CONF_CLIENT_ID) and link.get(CONF_CLIENT_SECRET)
    ):
        return LinkTest({"base": "missing_credentials"})
    if auth == AUTH_TOKEN and not link.get(CONF_TOKEN):
        return LinkTest({CONF_TOKEN: "missing_token"})
    bundle = link.get(CONF_CA_BUNDLE)
    if bundle and not await hass.async_add_executor_job(Path(bundle).is_file):
        return LinkTest({CONF_CA_BUNDLE: "ca_bundle_not_found"})
    try:
        client = await async_make_client(hass, link)
        status = await async_program_status(client, link[CONF_VEN_NAME], link[CONF_PROGRAMS])
    except ssl.SSLError as err:
        return LinkTest({CONF_CA_BUNDLE: "invalid_ca_bundle"}, str(err))
    except VtnUnreachable as err:
        return LinkTest({"base": "cannot_connect"}, str(err))
    except VtnTlsError as err:
        return LinkTest({"base": "tls_error"}, str(err))
    except VtnAuthError as err:
        return LinkTest({"base": "invalid_auth"}, str(err))
    except OpenADRError as err:
        return LinkTest({"base": "vtn_error"}, str(err))
    return LinkTest({}, missing=list(status.missing))


class UtilitySteps(ConfigFlow):
    """The config flow's utility-link steps: set it up, change it (reconfigure), re-authenticate.

    Mixed into the config flow (which registers itself with ``domain=DOMAIN``); this base
    registers nothing.
    """

    _data: dict[str, Any]
    _utility: dict[str, Any] | None
    _pending_then: Callable[[], Awaitable[ConfigFlowResult]]
    _pending_placeholders: dict[str, str]

    if TYPE_CHECKING:
        # The config flow's charger step (ChargerSteps), declared for type checkers only.
        async def async_step_charger(
            self, user_input: dict[str, Any] | None = None
        ) -> ConfigFlowResult: ...

    async def async_step_utility(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """In a utility program: the premise ID and the utility link (an OpenADR 3.1 VTN),
        tested live; a program without a link (a tariff only) leaves the URL empty."""
        errors: dict[str, str] = {}
        placeholders = {"detail": ""}
        if user_input is not None:
            values = _flat(user_input)
            values[CONF_PREMISE_ID] = values[CONF_PREMISE_ID].strip()
            errors = _validate_premise_id(values)
            if metering := _validate_metering(values):  # shown on the section with the fields
                errors[SECTION_ADVANCED] = next(iter(metering.values()))
            if not errors:
                await self.async_set_unique_id(values[CONF_PREMISE_ID])
                self._abort_if_unique_id_configured()
            link: dict[str, Any] | None = None
            missing: list[str] = []
            if not errors and (values.get(CONF_VTN_URL) or "").strip():
                link = _utility_data(values, values[CONF_PREMISE_ID])
                test = await _async_test_link(self.hass, link)
                errors, placeholders, missing = test.errors, test.placeholders, test.missing
            if not errors:
                self._data[CONF_PREMISE_ID] = values[CONF_PREMISE_ID]
                self._data[CONF_INTERVAL_MINUTES] = int(values[CONF_INTERVAL_MINUTES])
                self._data[CONF_VALIDATION_WINDOW] = values[CONF_VALIDATION_WINDOW]
                self._utility = link
                if link is not None and missing:
                    return await self._async_pending(link, missing, self.async_step_charger)
                return await self.async_step_charger()
        return self.async_show_form(
            step_id="utility",
            data_schema=_utility_schema(
                _flat(user_input or {}), self._data.get(CONF_PREMISE_ID, ""), set_up=True
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_pending(
        self,
        link: dict[str, Any],
        missing: list[str],
        then: Callable[[], Awaitable[ConfigFlowResult]],
    ) -> ConfigFlowResult:
        """The link works but the VEN cannot see some programs yet: say so, then go on."""
        self._pending_then = then
        self._pending_placeholders = {
            "programs": ", ".join(missing),
            "ven_name": link[CONF_VEN_NAME],
        }
        return await self.async_step_utility_pending()

    async def async_step_utility_pending(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Waiting for the utility: the VEN is registered, the utility has not granted it the
        program(s) yet. Nothing to enter; the link becomes active by itself on the grant."""
        if user_input is not None:
            return await self._pending_then()
        return self.async_show_form(
            step_id="utility_pending",
            data_schema=vol.Schema({}),
            description_placeholders=self._pending_placeholders,
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
            user_input = _flat(user_input)
            utility: dict[str, Any] | None = None
            missing: list[str] = []
            if (user_input.get(CONF_VTN_URL) or "").strip():
                for secret in (CONF_CLIENT_SECRET, CONF_TOKEN):
                    if not user_input.get(secret) and current.get(secret):
                        user_input[secret] = current[secret]
                utility = _utility_data(user_input, self._data[CONF_PREMISE_ID])
                test = await _async_test_link(self.hass, utility)
                errors, placeholders, missing = test.errors, test.placeholders, test.missing
            if not errors:
                data = {**entry.data, **self._data}
                data.pop(CONF_UTILITY, None)
                if utility is not None:
                    data[CONF_UTILITY] = utility
                    data[CONF_IN_PROGRAM] = True

                async def save() -> ConfigFlowResult:
                    return self.async_update_reload_and_abort(
                        entry,
                        unique_id=self._data[CONF_PREMISE_ID],
                        title=self._data[CONF_PREMISE_NAME],
                        data=data,
                    )

                if utility is not None and missing:
                    return await self._async_pending(utility, missing, save)
                return await save()
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
        """The VTN refuses the stored credentials (3.1: the token or client credentials;
        2.0b: the VEN's certificate, or the VTN's fingerprint no longer matches)."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enter new credentials for the utility link (a 2.0b link: the VEN's certificate and
        key and the VTN's fingerprint); they are tested live (2.0b: registration) before they
        are kept, and the entry is reloaded."""
        entry = self._get_reauth_entry()
        current: dict[str, Any] = dict(entry.data.get(CONF_UTILITY) or {})
        errors: dict[str, str] = {}
        placeholders = {"detail": "", "url": current.get(CONF_VTN_URL, "")}
        oadr2 = current.get(CONF_PROTOCOL) == PROTOCOL_OADR2
        if user_input is not None:
            if oadr2:
                from .utility2 import oadr2_reauth_data

                utility = oadr2_reauth_data(current, user_input)
            else:
                utility = {**current, **{k: v for k, v in user_input.items() if v}}
            test = await _async_test_link(self.hass, utility)
            # An error of a field this form does not have (the set-up's sections): the form's.
            errors = {
                _REAUTH_FIELD_OF.get(v, k if k in _REAUTH_KEYS else "base"): v
                for k, v in test.errors.items()
            }
            placeholders.update(test.placeholders)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data={**entry.data, CONF_UTILITY: utility}
                )
        fields: dict[vol.Marker, Any] = {}
        if oadr2:
            from .utility2 import oadr2_reauth_fields

            fields = oadr2_reauth_fields(
                current if user_input is None else oadr2_reauth_data(current, user_input)
            )
        elif current.get(CONF_AUTH_TYPE) == AUTH_TOKEN:
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
