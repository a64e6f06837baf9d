/**
 * The card's editor: Home Assistant's ha-form with the chargers of PEV Portal to pick from (from
 * `pev_portal/dashboard`, so premises, vehicles and the utility link are never offered), a
 * title, and the sections, each shown with its effective value (on unless switched off).
 */

import { LitElement, html, nothing, type TemplateResult } from "lit";
import { localize } from "./localize";
import type { CardConfig, DashboardData, HomeAssistant } from "./types";
import { SECTION_DEFAULTS, chargerOptions, editorSchema, withDefaults, withoutDefaults, type Option, type SectionKey } from "./view";

export const EDITOR_TYPE = "pev-portal-card-editor";

export class PevPortalCardEditor extends LitElement {
  declare hass: HomeAssistant | undefined;
  declare private _config: CardConfig | undefined;
  declare private _chargers: Option[] | undefined;
  declare private _error: string | undefined;

  static override properties = {
    hass: { attribute: false },
    _config: { state: true },
    _chargers: { state: true },
    _error: { state: true },
  };

  private _loading = false;

  setConfig(config: CardConfig): void {
    this._config = config;
  }

  private get _lang(): string {
    return this.hass?.locale?.language ?? this.hass?.language ?? "en";
  }

  protected override updated(): void {
    if (this.hass && this._chargers === undefined && !this._loading) void this._load();
  }

  private async _load(): Promise<void> {
    this._loading = true;
    try {
      const data = await this.hass!.callWS<DashboardData>({ type: "pev_portal/dashboard" });
      this._chargers = chargerOptions(data);
      this._error = undefined;
    } catch (err) {
      this._chargers = [];
      this._error = err && typeof err === "object" && "message" in err ? String(err.message) : String(err);
    } finally {
      this._loading = false;
    }
  }

  private _changed(update: Partial<CardConfig>): void {
    if (!this._config) return;
    const config = withoutDefaults({ ...this._config, ...update });
    this._config = config;
    this.dispatchEvent(new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }));
  }

  protected override render(): TemplateResult | typeof nothing {
    if (!this._config) return nothing;
    const lang = this._lang;
    const data = withDefaults(this._config);
    const error = this._error
      ? html`<div class="error">${localize(lang, "error", { message: this._error })}</div>`
      : nothing;
    if (customElements.get("ha-form")) {
      return html`${error}<ha-form
          .hass=${this.hass}
          .data=${data}
          .schema=${editorSchema(lang, this._chargers, this._config.device_id)}
          .computeLabel=${(schema: { name: string }) => localize(lang, `editor.${schema.name}`)}
          @value-changed=${(ev: CustomEvent<{ value: Partial<CardConfig> }>) => {
            ev.stopPropagation();
            this._changed(ev.detail.value);
          }}
        ></ha-form>`;
    }
    // Outside Home Assistant's frontend: the browser's own controls.
    const options = editorSchema(lang, this._chargers, this._config.device_id)[0] as {
      selector: { select: { options: Option[] } };
    };
    return html`${error}
      <label>
        ${localize(lang, "editor.device_id")}
        <select @change=${(ev: Event) => this._changed({ device_id: (ev.target as HTMLSelectElement).value })}>
          ${options.selector.select.options.map(
            (o) => html`<option value=${o.value} ?selected=${o.value === data.device_id}>${o.label}</option>`,
          )}
        </select>
      </label>
      <label>
        ${localize(lang, "editor.title")}
        <input .value=${data.title ?? ""} @change=${(ev: Event) => this._changed({ title: (ev.target as HTMLInputElement).value })} />
      </label>
      ${(Object.keys(SECTION_DEFAULTS) as SectionKey[]).map(
        (key) => html`<label>
          <input type="checkbox" .checked=${data[key] !== false} @change=${(ev: Event) => this._changed({ [key]: (ev.target as HTMLInputElement).checked })} />
          ${localize(lang, `editor.${key}`)}
        </label>`,
      )}`;
  }
}
