"""Static checks of the files Home Assistant's hassfest and HACS validate.

The rules follow hassfest (script/hassfest/manifest.py, translations.py, quality_scale.py in
home-assistant/core) and HACS (custom_components/hacs/utils/validate.py in hacs/integration
and https://hacs.xyz/docs/publish/start), so a mistake shows up here instead of in their CI.
"""

from __future__ import annotations

import json
import re
import string
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from awesomeversion import AwesomeVersion, AwesomeVersionException, AwesomeVersionStrategy

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "pev_portal"
INTEGRATION = ROOT / "custom_components" / DOMAIN
MANIFEST = INTEGRATION / "manifest.json"
HACS_JSON = ROOT / "hacs.json"
STRINGS = INTEGRATION / "strings.json"
EN_JSON = INTEGRATION / "translations" / "en.json"
SERVICES_YAML = INTEGRATION / "services.yaml"
QUALITY_SCALE = INTEGRATION / "quality_scale.yaml"
BRAND = INTEGRATION / "brand"
REQUIREMENTS_TEST = ROOT / "requirements_test.txt"

# hassfest: INTEGRATION_MANIFEST_SCHEMA ("virtual" has its own schema and no code).
INTEGRATION_TYPES = {"device", "entity", "hardware", "helper", "hub", "service", "system"}
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
QUALITY_SCALES = {"internal", "legacy", "bronze", "silver", "gold", "platinum"}
# Keys of hassfest's CUSTOM_INTEGRATION_MANIFEST_SCHEMA.
MANIFEST_KEYS = {
    "after_dependencies",
    "bluetooth",
    "codeowners",
    "config_flow",
    "dependencies",
    "dhcp",
    "disabled",
    "documentation",
    "domain",
    "homekit",
    "import_executor",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "mqtt",
    "name",
    "quality_scale",
    "requirements",
    "single_config_entry",
    "ssdp",
    "usb",
    "version",
    "zeroconf",
}
# hassfest verify_version: the strategies a custom integration's version may follow.
VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]
# HACS_MANIFEST_JSON_SCHEMA (extra keys are rejected), with each key's type.
HACS_KEYS: dict[str, type] = {
    "name": str,
    "content_in_root": bool,
    "country": object,  # a code or a list of codes
    "filename": str,
    "hacs": str,
    "hide_default_branch": bool,
    "homeassistant": str,
    "persistent_directory": str,
    "render_readme": bool,
    "zip_release": bool,
}
# hassfest quality_scale.py ALL_RULES, by tier.
QUALITY_SCALE_TIERS: dict[str, set[str]] = {
    "bronze": {
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    },
    "silver": {
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    },
    "gold": {
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    },
    "platinum": {
        "async-dependency",
        "inject-websession",
        "strict-typing",
    },
}
QUALITY_SCALE_RULES = set().union(*QUALITY_SCALE_TIERS.values())

# hassfest translations.py
RE_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
RE_SLUG = re.compile(r"^[a-z0-9_]+$")
RE_PLACEHOLDER_IN_SINGLE_QUOTES = re.compile(r"'{\w+}'")
RE_COMBINED_REFERENCE = re.compile(r"(.+\[%)|(%\].+)")
RE_HTML = re.compile(r"<[a-z][\s\S]*>", re.IGNORECASE)
RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)
STRINGS_SECTIONS = {
    "application_credentials",
    "common",
    "conditions",
    "config",
    "config_panel",
    "config_subentries",
    "conversation",
    "device",
    "device_automation",
    "entity",
    "entity_component",
    "exceptions",
    "issues",
    "options",
    "preview_features",
    "selector",
    "services",
    "system_health",
    "title",
    "triggers",
}
DATA_ENTRY_KEYS = {
    "flow_title",
    "step",
    "error",
    "abort",
    "progress",
    "create_entry",
    "initiate_flow",
}
STEP_KEYS = {
    "title",
    "description",
    "data",
    "data_description",
    "menu_options",
    "menu_option_descriptions",
    "submit",
    "sections",
}
SECTION_KEYS = {"data", "data_description", "description", "name"}
ENTITY_KEYS = {"name", "state", "state_attributes", "unit_of_measurement"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _load_json(path: Path) -> Any:
    assert path.is_file(), f"{path.relative_to(ROOT)} does not exist"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        pytest.fail(f"{path.relative_to(ROOT)} is not valid JSON: {err}")


def _load_yaml(path: Path) -> Any:
    assert path.is_file(), f"{path.relative_to(ROOT)} does not exist"
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        pytest.fail(f"{path.relative_to(ROOT)} is not valid YAML: {err}")


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data = _load_json(MANIFEST)
    assert isinstance(data, dict), "manifest.json must hold a JSON object"
    return data


@pytest.fixture(scope="module")
def hacs() -> dict[str, Any]:
    data = _load_json(HACS_JSON)
    assert isinstance(data, dict), "hacs.json must hold a JSON object"
    return data


@pytest.fixture(scope="module")
def strings() -> dict[str, Any]:
    data = _load_json(STRINGS)
    assert isinstance(data, dict), "strings.json must hold a JSON object"
    return data


def _valid_version(value: Any, strategies: list[AwesomeVersionStrategy] | None = None) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        AwesomeVersion(value, ensure_strategy=strategies or VERSION_STRATEGIES)
    except AwesomeVersionException:
        return False
    return True


# --- manifest.json --------------------------------------------------------------------------


def test_manifest_key_order(manifest: dict[str, Any]) -> None:
    keys = list(manifest)
    expected = sorted(keys, key=lambda key: {"domain": ".domain", "name": ".name"}.get(key, key))
    assert keys == expected, (
        "manifest.json keys must be: domain, name, then the rest in alphabetical order "
        f"(hassfest sort rule).\n  found:    {keys}\n  expected: {expected}"
    )


def test_manifest_required_keys(manifest: dict[str, Any]) -> None:
    required = {
        "domain",
        "name",
        "codeowners",
        "config_flow",
        "dependencies",
        "documentation",
        "integration_type",
        "iot_class",
        "issue_tracker",
        "requirements",
        "version",
    }
    missing = sorted(required - manifest.keys())
    assert not missing, f"manifest.json lacks required keys: {missing}"


def test_manifest_has_no_unknown_keys(manifest: dict[str, Any]) -> None:
    unknown = sorted(manifest.keys() - MANIFEST_KEYS)
    assert not unknown, f"manifest.json has keys hassfest does not allow: {unknown}"


def test_manifest_domain_and_name(manifest: dict[str, Any]) -> None:
    assert manifest.get("domain") == DOMAIN, (
        f"manifest.json domain is {manifest.get('domain')!r}; it must match the directory "
        f"name {DOMAIN!r}"
    )
    name = manifest.get("name")
    assert isinstance(name, str), "manifest.json name must be a string"
    assert name.strip(), "manifest.json name must not be empty"


def test_manifest_codeowners(manifest: dict[str, Any]) -> None:
    owners = manifest.get("codeowners")
    assert isinstance(owners, list), "manifest.json codeowners must be a list of GitHub handles"
    assert owners, "manifest.json codeowners must name at least one GitHub handle"
    bad = [
        o for o in owners if not (isinstance(o, str) and re.fullmatch(r"@[\w.-]+(/[\w.-]+)?", o))
    ]
    assert not bad, f"manifest.json codeowners must look like '@handle' (or '@org/team'): {bad}"


def test_manifest_config_flow(manifest: dict[str, Any]) -> None:
    assert manifest.get("config_flow") is True, (
        "manifest.json config_flow must be true: the integration is set up from the UI"
    )


@pytest.mark.parametrize("key", ["dependencies", "after_dependencies"])
def test_manifest_dependencies(manifest: dict[str, Any], key: str) -> None:
    if key not in manifest and key == "after_dependencies":
        return
    value = manifest.get(key)
    assert isinstance(value, list), f"manifest.json {key} must be a list"
    bad = [d for d in value if not (isinstance(d, str) and RE_SLUG.match(d))]
    assert not bad, f"manifest.json {key} must hold integration domains: {bad}"
    assert len(set(value)) == len(value), f"manifest.json {key} has duplicates: {value}"


@pytest.mark.parametrize("key", ["documentation", "issue_tracker"])
def test_manifest_urls(manifest: dict[str, Any], key: str) -> None:
    url = manifest.get(key)
    assert isinstance(url, str), f"manifest.json {key} must be a URL string, got {url!r}"
    assert re.fullmatch(r"https://[^\s/]+\.[^\s/]+(/\S*)?", url), (
        f"manifest.json {key} must be an https:// URL, got {url!r}"
    )


def test_manifest_integration_type(manifest: dict[str, Any]) -> None:
    value = manifest.get("integration_type")
    assert value in INTEGRATION_TYPES, (
        f"manifest.json integration_type {value!r} is not one of {sorted(INTEGRATION_TYPES)}"
    )


def test_manifest_iot_class(manifest: dict[str, Any]) -> None:
    value = manifest.get("iot_class")
    assert value in IOT_CLASSES, (
        f"manifest.json iot_class {value!r} is not one of {sorted(IOT_CLASSES)}"
    )


def test_manifest_requirements_pinned(manifest: dict[str, Any]) -> None:
    requirements = manifest.get("requirements")
    assert isinstance(requirements, list), "manifest.json requirements must be a list"
    unpinned = [
        r
        for r in requirements
        if not (
            isinstance(r, str)
            and re.fullmatch(r"[A-Za-z0-9][\w.\-]*(\[[\w,.\-]+\])?==[\w.+!\-]+", r)
        )
    ]
    assert not unpinned, (
        f"manifest.json requirements must be pinned as 'package==version': {unpinned}"
    )


def test_manifest_version(manifest: dict[str, Any]) -> None:
    version = manifest.get("version")
    assert _valid_version(version), (
        f"manifest.json version {version!r} is not a version AwesomeVersion accepts "
        "(CalVer, SemVer, SimpleVer, BuildVer or PEP 440); custom integrations need one"
    )


def test_manifest_quality_scale(manifest: dict[str, Any]) -> None:
    if "quality_scale" not in manifest:
        return
    value = manifest["quality_scale"]
    assert value in QUALITY_SCALES, (
        f"manifest.json quality_scale {value!r} is not one of {sorted(QUALITY_SCALES)}"
    )


# --- hacs.json ------------------------------------------------------------------------------


def test_hacs_json_keys(hacs: dict[str, Any]) -> None:
    unknown = sorted(hacs.keys() - HACS_KEYS.keys())
    assert not unknown, f"hacs.json has keys HACS rejects: {unknown}; allowed: {sorted(HACS_KEYS)}"
    wrong = {
        k: type(v).__name__ for k, v in hacs.items() if not isinstance(v, HACS_KEYS.get(k, object))
    }
    assert not wrong, f"hacs.json values of the wrong type: {wrong}"


def test_hacs_json_name(hacs: dict[str, Any]) -> None:
    name = hacs.get("name")
    assert isinstance(name, str), "hacs.json must have a 'name' string"
    assert name.strip(), "hacs.json 'name' must not be empty"


def test_hacs_json_homeassistant_version(hacs: dict[str, Any]) -> None:
    if "homeassistant" not in hacs:
        return
    minimum = hacs["homeassistant"]
    assert _valid_version(minimum, [AwesomeVersionStrategy.CALVER]), (
        f"hacs.json homeassistant {minimum!r} is not a Home Assistant (CalVer) version"
    )
    pinned = re.search(r"^homeassistant==(\S+)", REQUIREMENTS_TEST.read_text(), re.MULTILINE)
    if pinned:
        assert AwesomeVersion(minimum) <= AwesomeVersion(pinned.group(1)), (
            f"hacs.json asks for Home Assistant >= {minimum}, but the tests run "
            f"{pinned.group(1)} (requirements_test.txt)"
        )


# --- strings.json and translations ----------------------------------------------------------


def test_translations_en_equals_strings(strings: dict[str, Any]) -> None:
    english = _load_json(EN_JSON)
    assert english == strings, (
        "translations/en.json must have the same content as strings.json (custom integrations "
        "load translations/en.json; copy strings.json over it)"
    )


def _leaves(node: Any, path: str) -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(value, f"{path}.{key}")]
    return [(path, node)]


def _string_problem(value: Any, placeholders: bool = True) -> str | None:
    """What hassfest's translation_value_validator would reject in this value, if anything."""
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not a string"
    if not value:
        return "is empty"
    if value != value.strip():
        return "has leading or trailing whitespace"
    if RE_HTML.search(value):
        return "contains HTML"
    if "[%key:" in value:
        return (
            "uses a [%key:...%] reference; Home Assistant only resolves those for core "
            "integrations, a custom integration would show it verbatim"
        )
    if RE_COMBINED_REFERENCE.search(value):
        return "combines a reference with text"
    if RE_PLACEHOLDER_IN_SINGLE_QUOTES.search(value):
        return "has a placeholder inside single quotes"
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
    except ValueError as err:
        return f"has malformed placeholders ({err}); write a literal brace as '{{{{' or '}}}}'"
    for field in fields:
        if not placeholders:
            return "has a placeholder where none is allowed"
        if not field.isidentifier():
            return f"has placeholder {{{field}}}, which is not a valid identifier"
    if RE_URL.search(value):
        return "contains a URL; pass it as a description placeholder instead"
    return None


def _placeholders_allowed(path: str) -> bool:
    """Entity states, state attributes and units are shown as they are: no placeholders."""
    return not (
        path.startswith(".entity.")
        and (
            ".state." in path
            or ".state_attributes." in path
            or path.endswith(".unit_of_measurement")
        )
    )


def _placeholders(value: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(value) if f}


def _check_data_entry(node: Any, where: str, errors: list[str], subentry: bool = False) -> None:
    if not isinstance(node, dict):
        errors.append(f"{where} must be an object")
        return
    allowed = DATA_ENTRY_KEYS | ({"entry_type"} if subentry else set())
    errors.extend(f"{where}.{key} is not a known key" for key in node.keys() - allowed)
    steps = node.get("step")
    if not isinstance(steps, dict):
        errors.append(f"{where}.step is required and must map step ids to texts")
        steps = {}
    for step_id, step in steps.items():
        here = f"{where}.step.{step_id}"
        if not isinstance(step, dict):
            errors.append(f"{here} must be an object")
            continue
        errors.extend(f"{here}.{key} is not a known key" for key in step.keys() - STEP_KEYS)
        for key in step.get("data_description", {}):
            if key not in step.get("data", {}):
                errors.append(f"{here}.data_description.{key} has no matching data.{key}")
        for section_id, section in step.get("sections", {}).items():
            if not isinstance(section, dict):
                errors.append(f"{here}.sections.{section_id} must be an object")
                continue
            errors.extend(
                f"{here}.sections.{section_id}.{key} is not a known key"
                for key in section.keys() - SECTION_KEYS
            )
    if subentry:
        if "entry_type" not in node:
            errors.append(f"{where}.entry_type is required for a subentry type")
        if not isinstance(node.get("initiate_flow"), dict) or "user" not in node["initiate_flow"]:
            errors.append(f"{where}.initiate_flow.user is required (the 'add' button label)")
    elif "initiate_flow" in node and set(node["initiate_flow"]) - {"user"}:
        errors.append(f"{where}.initiate_flow may only hold 'user'")


def test_strings_values_well_formed(strings: dict[str, Any]) -> None:
    errors = []
    for path, value in _leaves(strings, ""):
        if problem := _string_problem(value, _placeholders_allowed(path)):
            errors.append(f"{path[1:]} {problem}")
    assert not errors, "strings.json values hassfest would reject:\n  " + "\n  ".join(errors)


def test_strings_top_level_keys(strings: dict[str, Any]) -> None:
    unknown = sorted(strings.keys() - STRINGS_SECTIONS)
    assert not unknown, f"strings.json has top-level keys hassfest does not allow: {unknown}"


def test_strings_flows_well_formed(strings: dict[str, Any]) -> None:
    errors: list[str] = []
    for section in ("config", "options"):
        if section in strings:
            _check_data_entry(strings[section], section, errors)
    if "title" in strings.get("config", {}):
        errors.append("config.title was removed from Home Assistant; drop it")
    for subentry_type, flow in strings.get("config_subentries", {}).items():
        if not RE_SLUG.match(subentry_type):
            errors.append(f"config_subentries.{subentry_type} is not a valid slug")
        _check_data_entry(flow, f"config_subentries.{subentry_type}", errors, subentry=True)
    for issue_id, issue in strings.get("issues", {}).items():
        here = f"issues.{issue_id}"
        if not isinstance(issue, dict) or "title" not in issue:
            errors.append(f"{here} needs a title")
            continue
        if ("description" in issue) == ("fix_flow" in issue):
            errors.append(f"{here} needs exactly one of description or fix_flow")
        if "fix_flow" in issue:
            _check_data_entry(issue["fix_flow"], f"{here}.fix_flow", errors)
    assert not errors, "strings.json flow/issue sections are malformed:\n  " + "\n  ".join(errors)


def test_strings_entities_and_exceptions_well_formed(strings: dict[str, Any]) -> None:
    errors: list[str] = []
    for platform, entities in strings.get("entity", {}).items():
        if not isinstance(entities, dict):
            errors.append(f"entity.{platform} must be an object")
            continue
        for key, entity in entities.items():
            here = f"entity.{platform}.{key}"
            if not RE_TRANSLATION_KEY.match(key):
                errors.append(f"{here}: translation key must match [a-z0-9-_]+ (no edge _/-)")
            if not isinstance(entity, dict):
                errors.append(f"{here} must be an object")
                continue
            errors.extend(f"{here}.{k} is not a known key" for k in entity.keys() - ENTITY_KEYS)
            errors.extend(
                f"{here}.state.{state}: state keys must match [a-z0-9-_]+"
                for state in entity.get("state", {})
                if not RE_TRANSLATION_KEY.match(state)
            )
    for key, exception in strings.get("exceptions", {}).items():
        if not RE_SLUG.match(key):
            errors.append(f"exceptions.{key} is not a valid slug")
        if not isinstance(exception, dict) or set(exception) != {"message"}:
            errors.append(f"exceptions.{key} must be an object with just 'message'")
    assert not errors, "strings.json entity/exception sections are malformed:\n  " + "\n  ".join(
        errors
    )


OTHER_TRANSLATIONS = sorted(
    path for path in (INTEGRATION / "translations").glob("*.json") if path.name != "en.json"
)
# A translation may keep a string the same as English (a name, "Roaming", "Format"), but not
# more than this share of the longer ones: more means the file is an untranslated copy.
MAX_SHARE_AS_ENGLISH = 0.25
LONG_STRING = 12


@pytest.mark.parametrize("path", OTHER_TRANSLATIONS, ids=lambda path: path.name)
def test_other_translations_match_english(strings: dict[str, Any], path: Path) -> None:
    english = dict(_leaves(strings, ""))
    ours = dict(_leaves(_load_json(path), ""))
    errors = [f"{key[1:]} is missing" for key in english.keys() - ours.keys()]
    errors += [f"{key[1:]} is not in strings.json" for key in ours.keys() - english.keys()]
    for key in sorted(english.keys() & ours.keys()):
        value, theirs = ours[key], english[key]
        if problem := _string_problem(value, _placeholders_allowed(key)):
            errors.append(f"{key[1:]} {problem}")
            continue
        if _placeholders(value) != _placeholders(theirs):
            errors.append(
                f"{key[1:]} has placeholders {sorted(_placeholders(value))}, "
                f"English has {sorted(_placeholders(theirs))}"
            )
    assert not errors, f"{path.name} disagrees with strings.json:\n  " + "\n  ".join(errors)

    long_keys = [key for key, value in english.items() if len(value) > LONG_STRING]
    same = [key[1:] for key in long_keys if ours.get(key) == english[key]]
    assert len(same) <= MAX_SHARE_AS_ENGLISH * len(long_keys), (
        f"{path.name} keeps {len(same)} of {len(long_keys)} longer strings in English: {same}"
    )


# --- services.yaml --------------------------------------------------------------------------


def _service_fields(service: dict[str, Any]) -> dict[str, Any]:
    """Fields of a service, with the fields of collapsible sections flattened in."""
    fields: dict[str, Any] = {}
    for name, field in (service.get("fields") or {}).items():
        if isinstance(field, dict) and "fields" in field:  # a section
            fields.update(field["fields"] or {})
        else:
            fields[name] = field
    return fields


def test_services_have_translations(strings: dict[str, Any]) -> None:
    translated = strings.get("services", {})
    if not SERVICES_YAML.is_file():
        assert not translated, "strings.json describes services but services.yaml is missing"
        return
    services = _load_yaml(SERVICES_YAML) or {}
    assert isinstance(services, dict), "services.yaml must map service names to definitions"
    errors = []
    for name, service in services.items():
        text = translated.get(name)
        if not isinstance(text, dict):
            errors.append(f"services.{name} is missing from strings.json")
            continue
        errors.extend(
            f"services.{name}.{key} is missing or empty"
            for key in ("name", "description")
            if not text.get(key)
        )
        for field in _service_fields(service or {}):
            field_text = text.get("fields", {}).get(field)
            if not isinstance(field_text, dict):
                errors.append(f"services.{name}.fields.{field} is missing from strings.json")
                continue
            errors.extend(
                f"services.{name}.fields.{field}.{key} is missing or empty"
                for key in ("name", "description")
                if not field_text.get(key)
            )
    errors.extend(
        f"services.{name} in strings.json has no service in services.yaml"
        for name in translated.keys() - services.keys()
    )
    assert not errors, "services.yaml and strings.json disagree:\n  " + "\n  ".join(errors)


# --- brand images ---------------------------------------------------------------------------


def _png_size(path: Path) -> tuple[int, int]:
    assert path.is_file(), f"{path.relative_to(ROOT)} does not exist"
    with path.open("rb") as file:
        head = file.read(33)
    assert head[:8] == PNG_SIGNATURE, f"{path.relative_to(ROOT)} is not a PNG file"
    length, kind = struct.unpack(">I4s", head[8:16])
    assert (kind, length) == (b"IHDR", 13), f"{path.relative_to(ROOT)} has no IHDR chunk first"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("icon.png", (256, 256)),
        ("icon@2x.png", (512, 512)),
        ("dark_icon.png", (256, 256)),
        ("dark_icon@2x.png", (512, 512)),
    ],
)
def test_brand_icon(name: str, size: tuple[int, int]) -> None:
    path = BRAND / name
    if name not in ("icon.png", "dark_icon.png") and not path.exists():
        pytest.skip(f"{name} is optional")
    assert _png_size(path) == size, f"brand/{name} must be a {size[0]}x{size[1]} PNG"


@pytest.mark.parametrize(
    ("name", "shortest"),
    [
        ("logo.png", (128, 256)),
        ("logo@2x.png", (256, 512)),
        ("dark_logo.png", (128, 256)),
        ("dark_logo@2x.png", (256, 512)),
    ],
)
def test_brand_logo(name: str, shortest: tuple[int, int]) -> None:
    path = BRAND / name
    if name not in ("logo.png", "dark_logo.png") and not path.exists():
        pytest.skip(f"{name} is optional")
    low, high = shortest
    assert low <= min(_png_size(path)) <= high, (
        f"brand/{name}: its shortest side must be between {low} and {high} pixels"
    )


# --- quality_scale.yaml ---------------------------------------------------------------------


def test_quality_scale_rules() -> None:
    data = _load_yaml(QUALITY_SCALE)
    assert isinstance(data, dict), "quality_scale.yaml must hold a mapping"
    assert isinstance(data.get("rules"), dict), (
        "quality_scale.yaml needs a top-level 'rules' mapping"
    )
    errors = []
    for rule, value in data["rules"].items():
        if rule not in QUALITY_SCALE_RULES:
            errors.append(f"{rule}: not a quality scale rule")
        if isinstance(value, dict):
            status, comment = value.get("status"), value.get("comment")
            if set(value) - {"status", "comment"}:
                errors.append(f"{rule}: only 'status' and 'comment' are allowed")
            if status not in {"done", "todo", "exempt"}:
                errors.append(f"{rule}: status {status!r} is not done, todo or exempt")
            if not (isinstance(comment, str) and comment.strip()):
                errors.append(f"{rule}: a rule written as a mapping needs a non-empty comment")
        elif value == "exempt":
            errors.append(
                f"{rule}: exempt needs a comment saying why (status: exempt, comment: ...)"
            )
        elif value not in {"done", "todo"}:
            errors.append(f"{rule}: status {value!r} is not done, todo or exempt")
    assert not errors, "quality_scale.yaml is invalid:\n  " + "\n  ".join(errors)


def test_quality_scale_tier_is_earned(manifest: dict[str, Any]) -> None:
    """The manifest's tier holds only when every rule of it and the tiers below is done or
    exempt in quality_scale.yaml (hassfest's check for core integrations)."""
    tier = manifest.get("quality_scale")
    if tier not in QUALITY_SCALE_TIERS:
        return
    rules = _load_yaml(QUALITY_SCALE)["rules"]
    names = list(QUALITY_SCALE_TIERS)
    needed = set().union(*(QUALITY_SCALE_TIERS[t] for t in names[: names.index(tier) + 1]))

    def status(rule: str) -> str | None:
        value = rules.get(rule)
        return value.get("status") if isinstance(value, dict) else value

    missing = sorted(r for r in needed if status(r) not in ("done", "exempt"))
    assert not missing, f"quality_scale {tier!r} needs these rules done or exempt: {missing}"


# -- icons.json (hassfest icons.py; the icon-translations rule) --------------------------------

ICONS = INTEGRATION / "icons.json"
# Entities whose icon comes from their device class (energy, power, plug, battery charging,
# connectivity), so icons.json need not name one.
DEVICE_CLASS_ICONS = {
    ("sensor", "session_energy"),
    ("sensor", "charging_power"),
    ("binary_sensor", "plugged"),
    ("binary_sensor", "charging"),
    ("binary_sensor", "utility_connection"),
}
MDI = re.compile(r"^mdi:[a-z0-9-]+$")


def test_icons_cover_entities_and_services(strings: dict[str, Any]) -> None:
    """Every translated entity has an icon (or a device class's), every action has one, and
    icons.json names nothing that does not exist."""
    icons = _load_json(ICONS)
    have = {(p, k) for p, keys in icons["entity"].items() for k in keys}
    translated = {(p, k) for p, keys in strings["entity"].items() for k in keys}
    assert translated - have - DEVICE_CLASS_ICONS == set()
    assert have - translated == set()
    assert translated >= DEVICE_CLASS_ICONS
    services = set(_load_yaml(SERVICES_YAML))
    assert set(icons["services"]) == services
    for (platform, key), entry in (
        ((p, k), e) for p, keys in icons["entity"].items() for k, e in keys.items()
    ):
        found = [entry["default"], *entry.get("state", {}).values()]
        assert all(MDI.match(i) for i in found), (platform, key, found)
    assert all(MDI.match(s["service"]) for s in icons["services"].values())


def _opaque_pixels(path: Path, from_x: float) -> list[tuple[int, int, int]]:
    """The opaque pixels right of from_x (share of the width) of a PNG written by make_brand.py
    (8-bit RGBA, every row with filter type 0)."""
    data = path.read_bytes()
    width, height = _png_size(path)
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + 4 * width
    pixels = []
    for y in range(height):
        row = raw[y * stride : (y + 1) * stride]
        assert row[0] == 0, f"{path.name}: row {y} uses a PNG filter make_brand.py never writes"
        for x in range(int(width * from_x), width):
            r, g, b, a = row[1 + 4 * x : 5 + 4 * x]
            if a == 255:
                pixels.append((r, g, b))
    return pixels


def _luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance."""
    channels = [c / 255 for c in rgb]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize(("name", "readable"), [("dark_logo.png", True), ("logo.png", False)])
def test_brand_dark_logo_is_readable_on_a_dark_theme(name: str, readable: bool) -> None:
    """The words of dark_logo.png stand out on Home Assistant's dark background (#111111) with
    the contrast WCAG asks of text (4.5:1); those of logo.png, meant for light themes, do not."""
    words = _opaque_pixels(BRAND / name, from_x=0.25)  # right of the icon
    assert words
    background = _luminance((0x11, 0x11, 0x11))
    contrast = (min(_luminance(p) for p in words) + 0.05) / (background + 0.05)
    assert (contrast >= 4.5) is readable, f"{name}: contrast {contrast:.1f}:1"
