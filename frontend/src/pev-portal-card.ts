/**
 * PEV Portal's Lovelace card: shows a charger's session, binding, price, utility events, plan
 * and last sessions, and steers it through the integration's entities and actions.
 *
 * Data arrives over the websocket subscription `pev_portal/subscribe_dashboard` (pushed on
 * every coordinator update); every action is a service call whose result is shown.
 */

import { LitElement, css, html, nothing, svg, type PropertyValues, type TemplateResult } from "lit";
import { buildChart } from "./chart";
import { booleanControl, numberControl, selectControl, textControl, timeControl } from "./controls";
import { EDITOR_TYPE, PevPortalCardEditor } from "./editor";
import { planFeedText, sessionRowFeed } from "./feed";
import { batteryUse, feedBars, feedLegend, feedStat, feedStyles } from "./feed-render";
import {
  formatDateTime,
  formatEnergy,
  formatMoney,
  formatNumber,
  formatPower,
  formatPrice,
  formatTime,
  formatUnitPrice,
} from "./format";
import { localize } from "./localize";
import type {
  CardConfig,
  ChargerData,
  DashboardData,
  EventData,
  HassEntity,
  HomeAssistant,
  SessionIntervals,
  SessionRow,
} from "./types";
import {
  canPause,
  chargerOptions,
  chooseCharger,
  EVENT_KINDS,
  eventHistoryLine,
  eventName,
  eventSource,
  eventTitleKey,
  explanationText,
  isPriceKind,
  modeLabel,
  optOutData,
  optOutState,
  periodLabel,
  planMode,
  timeValue,
  utilityLine,
  withDefaults,
} from "./view";

const CARD_TYPE = "pev-portal-card";
const VERSION = "0.1.0";
const EXPORT_URL = "/api/pev_portal/export";
const EVENT_PRICE = 0.6;
const EVENT_LIMIT_KW = 3.7;

interface Status {
  ok: boolean;
  text: string;
}

let lastLanguage = "en";

function errorMessage(err: unknown): string {
  if (err && typeof err === "object" && "message" in err) return String((err as { message: unknown }).message);
  return String(err);
}

export class PevPortalCard extends LitElement {
  declare hass: HomeAssistant | undefined;
  declare private _config: CardConfig;
  declare private _data: DashboardData | undefined;
  declare private _error: string | undefined;
  declare private _status: Status | undefined;
  declare private _busy: string | undefined;
  declare private _intervals: Record<string, SessionIntervals | "loading" | string>;
  declare private _width: number;
  declare private _eventKind: string;
  declare private _draft: Record<string, string | number>;

  static override properties = {
    hass: { attribute: false },
    _config: { state: true },
    _data: { state: true },
    _error: { state: true },
    _status: { state: true },
    _busy: { state: true },
    _intervals: { state: true },
    _width: { state: true },
    _eventKind: { state: true },
    _draft: { state: true },
  };

  private _unsubscribe?: Promise<() => Promise<void> | void>;
  private _resizeObserver?: ResizeObserver;

  constructor() {
    super();
    this._config = { type: `custom:${CARD_TYPE}` };
    this._intervals = {};
    this._width = 320;
    this._eventKind = "price";
    this._draft = {};
  }

  // -- Lovelace API ------------------------------------------------------------------------

  setConfig(config: CardConfig): void {
    if (!config || typeof config !== "object") throw new Error(localize(lastLanguage, "invalid_config"));
    this._config = withDefaults(config);
  }

  getCardSize(): number {
    return 9;
  }

  getGridOptions(): Record<string, number | string> {
    return { columns: 12, min_columns: 6, min_rows: 4 };
  }

  /** A new card shows the first charger (chosen in the card picker, so it is never "any"). */
  static async getStubConfig(hass?: HomeAssistant): Promise<Partial<CardConfig>> {
    try {
      const data = await hass?.callWS<DashboardData>({ type: "pev_portal/dashboard" });
      const first = chargerOptions(data)[0];
      return first ? { device_id: first.value } : {};
    } catch {
      return {};
    }
  }

  static getConfigElement(): HTMLElement {
    return document.createElement(EDITOR_TYPE);
  }

  // -- life cycle --------------------------------------------------------------------------

  override connectedCallback(): void {
    super.connectedCallback();
    this._subscribe();
    // Home Assistant loads some of its elements lazily: once they are defined, the card draws
    // its controls with them instead of the browser's.
    for (const tag of ["ha-select", "ha-selector"]) {
      if (typeof customElements !== "undefined" && !customElements.get(tag)) {
        customElements.whenDefined(tag).then(() => this.requestUpdate(), () => undefined);
      }
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this._unsubscribeAll();
    this._resizeObserver?.disconnect();
    this._resizeObserver = undefined;
  }

  protected override updated(changed: PropertyValues): void {
    if (changed.has("hass")) {
      lastLanguage = this._lang;
      this._subscribe();
    }
    const chart = this.renderRoot.querySelector(".chart");
    if (chart && !this._resizeObserver && typeof ResizeObserver !== "undefined") {
      this._resizeObserver = new ResizeObserver((entries) => {
        const width = Math.round(entries[0]?.contentRect.width ?? 0);
        if (width > 0 && Math.abs(width - this._width) > 1) this._width = width;
      });
      this._resizeObserver.observe(chart);
    }
  }

  private _subscribe(): void {
    if (this._unsubscribe || !this.hass || !this.isConnected) return;
    this._unsubscribe = this.hass.connection.subscribeMessage<DashboardData>(
      (data) => {
        this._data = data;
        this._error = undefined;
      },
      { type: "pev_portal/subscribe_dashboard" },
    );
    this._unsubscribe.catch((err) => {
      this._error = errorMessage(err);
      this._unsubscribe = undefined;
    });
  }

  private _unsubscribeAll(): void {
    const pending = this._unsubscribe;
    this._unsubscribe = undefined;
    pending?.then((unsub) => unsub()).catch(() => undefined);
  }

  // -- helpers -----------------------------------------------------------------------------

  private get _lang(): string {
    return this.hass?.locale?.language ?? this.hass?.language ?? "en";
  }

  private _t(key: string, values?: Record<string, string | number>): string {
    return localize(this._lang, key, values);
  }

  private get _tz(): string | undefined {
    return this.hass?.config?.time_zone;
  }


  private _entity(charger: ChargerData, key: string): HassEntity | undefined {
    const id = charger.entities[key];
    return id ? this.hass?.states[id] : undefined;
  }

  private async _run(action: string, done: string, call: () => Promise<unknown>): Promise<void> {
    this._busy = action;
    this._status = undefined;
    try {
      await call();
      this._status = { ok: true, text: done };
    } catch (err) {
      this._status = { ok: false, text: this._t("failed", { action: this._t(action), message: errorMessage(err) }) };
    } finally {
      this._busy = undefined;
    }
  }

  // -- actions -----------------------------------------------------------------------------

  private _selectVehicle(charger: ChargerData, option: string): void {
    const entity_id = charger.entities.vehicle;
    if (!entity_id || !this.hass) return;
    const shown = option === "auto" ? this._t("vehicle_auto") : option;
    this._run("vehicle", this._t("done.vehicle", { vehicle: shown }), () =>
      this.hass!.callService("select", "select_option", { entity_id, option }),
    );
  }

  private _chargeNow(charger: ChargerData): void {
    const entity_id = charger.entities.charge_now;
    if (!entity_id || !this.hass) return;
    this._run("charge_now", this._t("done.charge_now"), () =>
      this.hass!.callService("button", "press", { entity_id }),
    );
  }

  private _toggleCharging(charger: ChargerData): void {
    const entity_id = charger.entities.charging_enabled;
    if (!entity_id || !this.hass || !canPause(charger)) return;
    const pause = charger.charging_enabled;
    this._run(pause ? "pause" : "resume", this._t(pause ? "done.pause" : "done.resume"), () =>
      this.hass!.callService("switch", pause ? "turn_off" : "turn_on", { entity_id }),
    );
  }

  private _optOut(charger: ChargerData, event: EventData): void {
    if (!this.hass || !charger.device_id) return;
    const consequence = event.opt_out_consequence;
    // The program's consequence of opting out is shown, and must be accepted, first.
    if (consequence && !window.confirm(this._t("opt_out.confirm", { consequence }))) return;
    this._run("opt_out", this._t("done.opt_out"), () =>
      this.hass!.callService("pev_portal", "opt_out", optOutData(event, charger.device_id!, Boolean(consequence))),
    );
  }

  /** Set a control entity to a value: the one given, else what was typed in its control. */
  private _setEntity(charger: ChargerData, key: string, label: string, given?: string | number): void {
    const entity_id = charger.entities[key];
    const value = given ?? this._draft[key];
    if (!entity_id || value === undefined || !this.hass) return;
    const domain = entity_id.split(".")[0];
    const done = this._t("done.set", { what: label });
    this._run(key === "charge_mode" ? "charge_mode" : key, done, async () => {
      switch (domain) {
        case "select":
          await this.hass!.callService("select", "select_option", { entity_id, option: String(value) });
          break;
        case "time":
          await this.hass!.callService("time", "set_value", { entity_id, time: timeValue(String(value)) });
          break;
        case "datetime":
          await this.hass!.callService("datetime", "set_value", { entity_id, datetime: String(value) });
          break;
        default:
          await this.hass!.callService(domain, "set_value", { entity_id, value: Number(value) });
      }
      const { [key]: _applied, ...rest } = this._draft;
      this._draft = rest;
    });
  }

  private _setDraft(key: string, value: string | number): void {
    this._draft = { ...this._draft, [key]: value };
  }

  private _addEvent(charger: ChargerData): void {
    if (!this.hass) return;
    const draft = (key: string, fallback: string | number) => this._draft[`event_${key}`] ?? fallback;
    const kind = this._eventKind;
    const hours = Number(draft("duration", 1)) || 1;
    const start = new Date();
    const end = new Date(start.getTime() + hours * 3_600_000);
    const data: Record<string, unknown> = {
      config_entry_id: charger.entry_id,
      kind,
      start: start.toISOString(),
      end: end.toISOString(),
    };
    const name = String(draft("name", "")).trim();
    if (name) data.name = name;
    if (isPriceKind(kind)) data.price = Number(draft("price", EVENT_PRICE));
    else data.limit_kw = Number(draft("limit", EVENT_LIMIT_KW));
    this._run("add_event", this._t("done.event"), () =>
      this.hass!.callService("pev_portal", "add_local_event", data),
    );
  }

  private async _export(charger: ChargerData, sessionId?: string): Promise<void> {
    if (!this.hass) return;
    const params = new URLSearchParams({ format: "csv", entry_id: charger.entry_id });
    if (sessionId) {
      const row = charger.sessions.find((s) => s.session_id === sessionId);
      params.set("session_id", sessionId);
      if (row) {
        params.set("start", row.started_at);
        params.set("end", new Date(Date.parse(row.started_at) + 1000).toISOString());
      }
    }
    await this._run("export_csv", this._t("exported"), async () => {
      const response = await this.hass!.fetchWithAuth(`${EXPORT_URL}?${params}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
      const disposition = response.headers.get("Content-Disposition") ?? "";
      const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? "pev_portal_sessions.csv";
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = filename;
      link.style.display = "none";
      this.renderRoot.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });
  }

  private async _toggleSession(row: SessionRow, ev: Event): Promise<void> {
    const open = (ev.target as HTMLDetailsElement).open;
    const known = this._intervals[row.session_id];
    if (!open || !this.hass || (known && typeof known !== "string") || known === "loading") return;
    this._intervals = { ...this._intervals, [row.session_id]: "loading" };
    try {
      const result = await this.hass.callWS<SessionIntervals>({
        type: "pev_portal/session_intervals",
        session_id: row.session_id,
      });
      this._intervals = { ...this._intervals, [row.session_id]: result };
    } catch (err) {
      this._intervals = { ...this._intervals, [row.session_id]: errorMessage(err) };
    }
  }

  // -- rendering ---------------------------------------------------------------------------

  protected override render(): TemplateResult {
    if (this._error) {
      return html`<ha-card><div class="message error">${this._t("error", { message: this._error })}</div></ha-card>`;
    }
    if (!this._data) {
      return html`<ha-card><div class="message">${this._t("loading")}</div></ha-card>`;
    }
    const choice = chooseCharger(this._data, this._config);
    if (choice.kind === "missing") {
      return html`<ha-card><div class="message error" data-test="missing-charger">${this._t("missing_charger")}</div></ha-card>`;
    }
    if (choice.kind === "none") {
      return html`<ha-card><div class="message" data-test="no-charger">${this._t("no_charger")}</div></ha-card>`;
    }
    const charger = choice.charger;
    return html`
      <ha-card data-charger=${charger.charger_id}>
        ${this._renderHeader(charger)} ${this._renderBanner(charger)} ${this._renderStats(charger)}
        ${batteryUse(charger.vehicles, this._lang)} ${this._renderControls(charger)}
        <div class="status ${this._status ? (this._status.ok ? "ok" : "failed") : ""}" role="status" aria-live="polite" data-test="status">
          ${this._status?.text ?? ""}
        </div>
        ${this._config.show_plan === false ? nothing : this._renderPlan(charger)}
        ${this._config.show_history === false ? nothing : this._renderHistory(charger)}
        ${this._config.show_event_form === false ? nothing : this._renderEventForm(charger)}
      </ha-card>
    `;
  }

  private _renderHeader(charger: ChargerData): TemplateResult {
    const session = charger.session;
    const binding = charger.binding;
    const vehicle = session
      ? session.vehicle ?? session.pev_id ?? this._t("unknown_vehicle")
      : this._t("no_vehicle");
    const utility = utilityLine(charger, this._lang);
    const party = binding?.billing_party ? this._t("billed_to", { party: this._t(`party.${binding.billing_party}`) }) : "";
    return html`
      <div class="header">
        <div class="title">
          <h2 class="name">${this._config.title || charger.name}</h2>
          <div class="sub">${charger.premise}</div>
        </div>
        <span class="chip state-${charger.state}" data-test="state" data-state=${charger.state}>
          ${this._t(`state.${charger.state}`)}
        </span>
      </div>
      <div class="binding" data-test="binding">
        <span class="vehicle" data-test="vehicle">${vehicle}</span>
        ${binding
          ? html`<span class="outcome outcome-${binding.outcome}" data-test="outcome">${this._t(`outcome.${binding.outcome}`)}</span>
              ${party ? html`<span class="party" data-test="party">${party}</span>` : nothing}
              ${binding.program_rate ? html`<span class="party">${this._t("program_rate")}</span>` : nothing}`
          : nothing}
      </div>
      ${utility ? html`<div class="utility" data-test="utility">${utility}</div>` : nothing}
    `;
  }

  private _renderBanner(charger: ChargerData): TemplateResult | typeof nothing {
    const event = charger.event ?? charger.next_event;
    if (!event && charger.cap_kw === null) return nothing;
    const active = Boolean(charger.event);
    const details: string[] = [];
    if (event) {
      if (event.level !== null && event.level !== undefined) details.push(this._t("event.level", { level: event.level }));
      if (event.price !== null && event.price !== undefined)
        details.push(this._t("event.price", { price: formatPrice(event.price, charger.price.currency, this._lang) }));
      if (event.limit_kw !== null && event.limit_kw !== undefined)
        details.push(this._t("event.limit", { limit: formatPower(event.limit_kw, this._lang) }));
      if (event.export_price !== null && event.export_price !== undefined)
        details.push(
          this._t("event.export_price", { price: formatPrice(event.export_price, charger.price.currency, this._lang) }),
        );
      if (event.export_limit_kw !== null && event.export_limit_kw !== undefined)
        details.push(this._t("event.export_limit", { limit: formatPower(event.export_limit_kw, this._lang) }));
      details.push(
        active
          ? this._t("event.until", { time: formatDateTime(event.end, this._lang, this._tz) })
          : this._t("event.from", {
              start: formatDateTime(event.start, this._lang, this._tz),
              end: formatDateTime(event.end, this._lang, this._tz),
            }),
      );
    }
    const name = event ? eventName(this._lang, event) : "";
    const optOut = optOutState(event);
    return html`
      <div class="banner ${active ? "active" : "upcoming"}" data-test="event-banner" data-source=${event ? eventSource(event) : nothing} role="note">
        <ha-icon icon=${active ? "mdi:alert-circle" : "mdi:calendar-clock"}></ha-icon>
        <div class="banner-text">
          ${event
            ? html`<div class="banner-title" data-test="event-title">${this._t(eventTitleKey(event, active), { name })}</div>
                <div class="banner-details">${details.join(" · ")}</div>`
            : nothing}
          ${charger.cap_kw !== null
            ? html`<div class="banner-details">${this._t("event.cap_now", { limit: formatPower(charger.cap_kw, this._lang) })}</div>`
            : nothing}
          ${optOut === "offer" && event?.opt_out_consequence
            ? html`<div class="banner-details" data-test="opt-out-consequence">${this._t("event.consequence", { consequence: event.opt_out_consequence })}</div>`
            : nothing}
        </div>
        ${optOut === "offer" && event && charger.device_id
          ? html`<button class="secondary" data-test="opt-out" @click=${() => this._optOut(charger, event)} ?disabled=${this._busy !== undefined}>
              ${this._t("opt_out")}
            </button>`
          : optOut === "opted_out"
            ? html`<span class="chip opted-out" data-test="opted-out">${this._t("opted_out")}</span>`
            : nothing}
      </div>
    `;
  }

  private _renderStats(charger: ChargerData): TemplateResult {
    const session = charger.session;
    const lang = this._lang;
    const price = charger.price;
    return html`
      <div class="stats">
        <div class="stat" data-test="power">
          <div class="label">${this._t("power")}</div>
          <div class="value">${formatPower(session ? session.power_kw ?? 0 : null, lang)}</div>
        </div>
        <div class="stat" data-test="energy">
          <div class="label">${this._t("energy")}</div>
          <div class="value">${formatEnergy(session?.energy_kwh, lang)}</div>
        </div>
        <div class="stat" data-test="cost">
          <div class="label">${this._t("cost")}</div>
          <div class="value">${formatMoney(session?.cost, session?.currency ?? price.currency, lang)}</div>
        </div>
        ${feedStat(session, session?.currency ?? price.currency, lang)}
        <div class="stat" data-test="price">
          <div class="label">${this._t("price")}</div>
          <div class="value">${formatPrice(price.value, price.currency, lang)}</div>
          <div class="hint">
            ${Date.parse(price.until) - Date.now() < 86_400_000
              ? this._t("period_until", { period: periodLabel(lang, price.period), time: formatDateTime(price.until, lang, this._tz) })
              : periodLabel(lang, price.period)}
          </div>
        </div>
      </div>
    `;
  }

  private _renderControls(charger: ChargerData): TemplateResult {
    const busy = this._busy !== undefined;
    const select = this._entity(charger, "vehicle");
    const options: string[] = select?.attributes.options ?? ["auto", ...charger.vehicles.map((v) => v.name)];
    const current = select?.state ?? "auto";
    const id = charger.charger_id;
    const pausable = canPause(charger);
    return html`
      <div class="controls">
        ${charger.entities.vehicle
          ? html`<div class="control-slot" data-test="vehicle-select">
              ${selectControl({
                id: `pev-vehicle-${id}`,
                label: this._t("vehicle"),
                value: current,
                options: options.map((o) => ({ value: o, label: o === "auto" ? this._t("vehicle_auto") : o })),
                disabled: busy,
                hass: this.hass,
                onChange: (option) => this._selectVehicle(charger, option),
              })}
            </div>`
          : nothing}
        ${this._renderOptional(charger)}
        <div class="buttons">
          ${charger.entities.charging_enabled
            ? html`<button class="secondary" data-test="toggle-charging" aria-pressed=${charger.charging_enabled ? "false" : "true"} ?disabled=${busy || !pausable} title=${pausable ? nothing : this._t("no_vehicle")} @click=${() => this._toggleCharging(charger)}>
                ${this._t(charger.charging_enabled ? "pause" : "resume")}
              </button>`
            : nothing}
          ${charger.entities.charge_now
            ? html`<button class="primary" data-test="charge-now" ?disabled=${busy || !charger.session} title=${charger.session ? nothing : this._t("no_vehicle")} @click=${() => this._chargeNow(charger)}>
                ${this._t("charge_now")}
              </button>`
            : nothing}
        </div>
      </div>
    `;
  }

  private _renderOptional(charger: ChargerData): TemplateResult[] {
    const busy = this._busy !== undefined;
    const lang = this._lang;
    const fields: (TemplateResult | typeof nothing)[] = [];
    const mode = this._entity(charger, "charge_mode");
    if (mode) {
      const options: string[] = mode.attributes.options ?? [];
      fields.push(html`<div class="control-slot" data-test="charge-mode">
        ${selectControl({
          id: "pev-charge_mode",
          label: this._t("charge_mode"),
          value: mode.state,
          options: options.map((o) => ({ value: o, label: modeLabel(lang, o) })),
          disabled: busy,
          hass: this.hass,
          onChange: (option) => this._setEntity(charger, "charge_mode", this._t("charge_mode"), option),
        })}
      </div>`);
    }
    const departureKey = ["departure", "departure_time"].find((k) => charger.entities[k]);
    const departure = departureKey ? this._entity(charger, departureKey) : undefined;
    if (departureKey && departure && departure.entity_id.startsWith("time.")) {
      const value = String(this._draft[departureKey] ?? timeValue(departure.state));
      fields.push(html`<div class="control-slot inline time-slot" data-test="departure">
        ${timeControl({
          id: `pev-${departureKey}`,
          label: this._t("departure"),
          value,
          disabled: busy,
          hass: this.hass,
          onChange: (time) => this._setDraft(departureKey, time),
        })}
        <button class="secondary" data-test="set-departure" ?disabled=${busy} @click=${() => this._setEntity(charger, departureKey, this._t("departure"), value)}>${this._t("set")}</button>
      </div>`);
    }
    const targetKey = ["target", "target_soc", "target_energy", "target_kwh"].find((k) => charger.entities[k]);
    if (targetKey) fields.push(this._numberSlot(charger, targetKey, "target", "target"));
    // Power feed (V2H/V2G) of the car on the charger: on or off, and the floor it keeps.
    const feed = this._entity(charger, "power_feed");
    if (feed) {
      fields.push(html`<div class="control-slot" data-test="power-feed">
        ${booleanControl({
          id: "pev-power_feed",
          label: this._t("power_feed"),
          value: feed.state === "on",
          disabled: busy || feed.state === "unavailable",
          hass: this.hass,
          onChange: (on) => this._setSwitch(charger, "power_feed", on),
        })}
      </div>`);
    }
    if (charger.entities.power_feed_floor) {
      fields.push(this._numberSlot(charger, "power_feed_floor", "power_feed_floor", "power-feed-floor"));
    }
    return fields.filter((f): f is TemplateResult => f !== nothing);
  }

  /** A number control with its "Set" button (the charge target, the power-feed floor). */
  private _numberSlot(charger: ChargerData, key: string, labelKey: string, test: string): TemplateResult | typeof nothing {
    const entity = this._entity(charger, key);
    if (!entity) return nothing;
    const busy = this._busy !== undefined;
    const a = entity.attributes;
    const value = Number(this._draft[key] ?? entity.state);
    const label = this._t(labelKey);
    return html`<div class="control-slot inline" data-test=${test}>
      ${numberControl({
        id: `pev-${key}`,
        label,
        value: Number.isFinite(value) ? value : 0,
        min: a.min ?? 0,
        max: a.max ?? 100,
        step: a.step ?? 1,
        unit: a.unit_of_measurement,
        disabled: busy,
        hass: this.hass,
        onChange: (n) => this._setDraft(key, n),
      })}
      <button class="secondary" data-test="set-${test}" ?disabled=${busy} @click=${() => this._setEntity(charger, key, label, value)}>${this._t("set")}</button>
    </div>`;
  }

  private _setSwitch(charger: ChargerData, key: string, on: boolean): void {
    const entity_id = charger.entities[key];
    if (!entity_id || !this.hass) return;
    this._run(key, this._t("done.set", { what: this._t(key) }), () =>
      this.hass!.callService("switch", on ? "turn_on" : "turn_off", { entity_id }),
    );
  }

  private _renderPlan(charger: ChargerData): TemplateResult {
    const lang = this._lang;
    const width = Math.max(200, this._width);
    const height = 150;
    const mode = planMode(charger);
    // Paused by the user: the plan is not followed, so neither its power nor its promise shows.
    const plan = mode === "plan" ? charger.plan : null;
    const model = buildChart(
      { prices: charger.prices, plan, caps: charger.caps, events: [charger.event, charger.next_event], now: new Date() },
      { width, height },
    );
    const currency = charger.price.currency;
    const label = (iso: string) => formatTime(iso, lang, this._tz);
    return html`
      <section class="plan" aria-labelledby="pev-plan-title">
        <div class="section-head">
          <h3 id="pev-plan-title">${this._t("plan")}</h3>
          ${plan?.ready_by ? html`<span class="ready" data-test="ready-by">${this._t("ready_by", { time: formatDateTime(plan.ready_by, lang, this._tz) })}</span>` : nothing}
        </div>
        ${mode === "paused"
          ? html`<div class="plan-info paused" data-test="plan-paused">${this._t("paused_plan")}</div>`
          : plan
            ? html`<div class="plan-info" data-test="plan-info">
                ${plan.reachable === false ? html`<span class="warn">${this._t("not_reachable")}</span>` : nothing}
                ${(plan.explanations ?? []).map((e) => html`<span>${explanationText(lang, e, this._tz)}</span>`)}
                ${plan.cost !== null && plan.cost !== undefined ? html`<span>${this._t("plan_cost", { cost: formatMoney(plan.cost, currency, lang) })}</span>` : nothing}
                ${planFeedText(plan.feed, currency, lang) ? html`<span data-test="plan-feed">${planFeedText(plan.feed, currency, lang)}</span>` : nothing}
              </div>`
            : html`<div class="plan-info" data-test="plan-info">${this._t("no_plan")}</div>`}
        <div class="chart" data-test="chart">
          <svg width=${width} height=${height} viewBox="0 0 ${width} ${height}" role="img" aria-label=${this._t("plan")}>
            <defs>
              <pattern id="pev-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                <rect width="6" height="6" class="cap-bg"></rect>
                <line x1="0" y1="0" x2="0" y2="6" class="cap-line"></line>
              </pattern>
            </defs>
            ${model.caps.map(
              (c) => svg`<rect class="cap" x=${c.x} y=${c.y} width=${c.width} height=${c.height} fill="url(#pev-hatch)"><title>${c.name ?? ""} ${c.limit !== null ? formatPower(c.limit, lang) : ""}</title></rect>
                ${c.limitY !== null ? svg`<line class="cap-limit" x1=${c.x} x2=${c.x + c.width} y1=${c.limitY} y2=${c.limitY}></line>` : nothing}`,
            )}
            ${model.prices.map(
              (p) => svg`<rect class="price" x=${p.x} y=${p.y} width=${Math.max(0.5, p.width)} height=${p.height}><title>${label(new Date(model.start + (p.x / width) * (model.end - model.start)).toISOString())} ${periodLabel(lang, p.period)}: ${formatPrice(p.price, currency, lang)}</title></rect>`,
            )}
            ${model.bars.map(
              (b) => svg`<rect class="bar" x=${b.x} y=${b.y} width=${b.width} height=${b.height}><title>${formatPower(b.power, lang)}</title></rect>`,
            )}
            ${feedBars(model, lang)}
            ${model.nowX !== null ? svg`<line class="now" x1=${model.nowX} x2=${model.nowX} y1="0" y2=${model.plotHeight}></line>` : nothing}
            ${model.departureX !== null
              ? svg`<line class="departure" x1=${model.departureX} x2=${model.departureX} y1="0" y2=${model.plotHeight}></line>
                  <text class="departure-label" x=${Math.min(model.departureX, width - 4)} y="11" text-anchor="end">${this._t("legend_departure")} ${label(plan!.departure!)}</text>`
              : nothing}
            <line class="axis" x1="0" x2=${width} y1=${model.plotHeight} y2=${model.plotHeight}></line>
            ${model.ticks.map(
              (t) => svg`<line class="tick" x1=${t.x} x2=${t.x} y1=${model.plotHeight} y2=${model.plotHeight + 4}></line>
                <text class="tick-label" x=${Math.min(Math.max(t.x, 26), width - 26)} y=${height - 3} text-anchor="middle">${label(t.time)}</text>`,
            )}
            ${model.priceLabel
              ? svg`<text class="scale" data-test="price-label" x=${model.priceLabel.x} y=${model.priceLabel.y}>${formatPrice(model.priceLabel.price, currency, lang)}</text>`
              : nothing}
          </svg>
        </div>
        <div class="legend">
          <span><i class="swatch price"></i>${this._t("legend_price")}</span>
          ${model.bars.length ? html`<span><i class="swatch bar"></i>${this._t("legend_power")}</span>` : nothing}
          ${feedLegend(model, lang)}
          ${model.caps.length ? html`<span><i class="swatch cap"></i>${this._t("legend_cap")}</span>` : nothing}
        </div>
      </section>
    `;
  }

  private _renderHistory(charger: ChargerData): TemplateResult {
    const lang = this._lang;
    return html`
      <section class="history" aria-labelledby="pev-history-title">
        <div class="section-head">
          <h3 id="pev-history-title">${this._t("history")}</h3>
          <button class="link" data-test="export" ?disabled=${this._busy !== undefined} @click=${() => this._export(charger)}>
            ${this._t("export_csv")}
          </button>
        </div>
        ${charger.sessions.length
          ? charger.sessions.map((row) => this._renderSession(charger, row, lang))
          : html`<div class="empty">${this._t("no_history")}</div>`}
        ${charger.event_history?.length
          ? html`<h4 class="event-history-title">${this._t("event_history")}</h4>
              <ul class="event-history" data-test="event-history">
                ${charger.event_history.map(
                  (row) => html`<li>${eventHistoryLine(row, lang, this._tz)}</li>`,
                )}
              </ul>`
          : nothing}
      </section>
    `;
  }

  private _renderSession(charger: ChargerData, row: SessionRow, lang: string): TemplateResult {
    const loaded = this._intervals[row.session_id];
    const quality = row.data_quality ?? "OK";
    return html`
      <details class="session" data-test="session" @toggle=${(ev: Event) => this._toggleSession(row, ev)}>
        <summary>
          <span class="when">${formatDateTime(row.started_at, lang, this._tz)}</span>
          <span class="who">${row.vehicle ?? row.pev_id ?? this._t("unknown_vehicle")}</span>
          <span class="num">${formatEnergy(row.energy_kwh, lang)}</span>
          <span class="num">${formatMoney(row.cost, row.currency, lang)}</span>
          ${sessionRowFeed(row, lang) ? html`<span class="num" data-test="session-feed">${sessionRowFeed(row, lang)}</span>` : nothing}
          <span class="quality quality-${quality}" title=${this._t("quality")}>${this._t(`quality.${quality}`)}</span>
        </summary>
        <div class="intervals">
          ${loaded === undefined || loaded === "loading"
            ? html`<div class="empty">${this._t("loading")}</div>`
            : typeof loaded === "string"
              ? html`<div class="empty error">${this._t("error", { message: loaded })}</div>`
              : loaded.intervals.length === 0
                ? html`<div class="empty">${this._t("no_intervals")}</div>`
                : html`<table data-test="intervals">
                    <thead>
                      <tr><th scope="col">${this._t("time")}</th><th scope="col">${this._t("energy")}</th><th scope="col">${this._t("price")}</th><th scope="col">${this._t("cost")}</th><th scope="col">${this._t("quality")}</th></tr>
                    </thead>
                    <tbody>
                      ${loaded.intervals.map(
                        (i) => html`<tr>
                          <td>${formatTime(i.start, lang, this._tz)}–${formatTime(i.end, lang, this._tz)}</td>
                          <td class="num">${formatNumber(i.kwh, lang, 3)}</td>
                          <td class="num">${formatUnitPrice(i.price, loaded.currency, lang)}</td>
                          <td class="num">${formatMoney(i.cost, loaded.currency, lang)}</td>
                          <td>${this._t(`quality.${i.quality}`)}</td>
                        </tr>`,
                      )}
                    </tbody>
                  </table>`}
          <button class="link" @click=${() => this._export(charger, row.session_id)}>${this._t("export_session")}</button>
        </div>
      </details>
    `;
  }

  private _renderEventForm(charger: ChargerData): TemplateResult {
    const busy = this._busy !== undefined;
    const kind = this._eventKind;
    const draft = (key: string, fallback: string | number) => this._draft[`event_${key}`] ?? fallback;
    const set = (key: string) => (value: string | number) => this._setDraft(`event_${key}`, value);
    return html`
      <details class="event-form" data-test="event-form">
        <summary>${this._t("add_event")}</summary>
        <div class="form">
          ${selectControl({
            id: "pev-event-kind",
            label: this._t("event_kind"),
            value: kind,
            options: EVENT_KINDS.map((k) => ({ value: k, label: this._t(`kind.${k}`) })),
            hass: this.hass,
            onChange: (value) => (this._eventKind = value),
          })}
          ${textControl({ id: "pev-event-name", label: this._t("event_name"), value: String(draft("name", "")), hass: this.hass, onChange: set("name") })}
          ${numberControl({
            id: "pev-event-duration",
            label: this._t("event_duration"),
            value: Number(draft("duration", 1)),
            min: 0.25,
            step: 0.25,
            unit: "h",
            hass: this.hass,
            onChange: set("duration"),
          })}
          ${isPriceKind(kind)
            ? numberControl({
                id: "pev-event-price",
                label: this._t("event_price"),
                value: Number(draft("price", EVENT_PRICE)),
                min: 0,
                step: 0.01,
                unit: `${charger.price.currency}/kWh`,
                hass: this.hass,
                onChange: set("price"),
              })
            : numberControl({
                id: "pev-event-limit",
                label: this._t("event_limit"),
                value: Number(draft("limit", EVENT_LIMIT_KW)),
                min: 0,
                step: 0.1,
                unit: "kW",
                hass: this.hass,
                onChange: set("limit"),
              })}
          <div class="buttons">
            <button class="primary" data-test="add-event" ?disabled=${busy} @click=${() => this._addEvent(charger)}>${this._t("add")}</button>
          </div>
        </div>
      </details>
    `;
  }

  static override styles = [feedStyles, css`
    :host {
      --pev-gap: 12px;
      --pev-accent: var(--primary-color, #03a9f4);
      --pev-muted: var(--secondary-text-color, #727272);
      --pev-divider: var(--divider-color, rgba(127, 127, 127, 0.25));
      --pev-price: var(--pev-price-color, var(--warning-color, #ffa600));
      --pev-cap: var(--error-color, #db4437);
      display: block;
    }
    ha-card {
      padding: 16px;
      color: var(--primary-text-color);
      box-sizing: border-box;
      overflow: hidden;
    }
    h2,
    h3 {
      margin: 0;
      font-weight: 500;
    }
    h2 {
      font-size: 1.25rem;
      line-height: 1.3;
    }
    h3 {
      font-size: 1rem;
    }
    .message {
      padding: 8px 0;
    }
    .error,
    .failed {
      color: var(--error-color, #db4437);
    }
    .header {
      display: flex;
      align-items: flex-start;
      justify-content: space-between;
      gap: var(--pev-gap);
    }
    .sub,
    .hint,
    .label,
    .plan-info,
    .legend,
    .empty {
      color: var(--pev-muted);
      font-size: 0.85rem;
    }
    .chip {
      flex: none;
      padding: 4px 10px;
      border-radius: 14px;
      font-size: 0.85rem;
      font-weight: 500;
      background: var(--pev-divider);
    }
    .chip.state-charging {
      background: var(--success-color, #43a047);
      color: var(--text-primary-color, #fff);
    }
    .chip.state-paused,
    .chip.state-waiting,
    .chip.state-validating {
      background: var(--warning-color, #ffa600);
      color: var(--text-primary-color, #fff);
    }
    .chip.opted-out {
      background: var(--success-color, #43a047);
      color: var(--text-primary-color, #fff);
    }
    .chip.state-fault {
      background: var(--error-color, #db4437);
      color: var(--text-primary-color, #fff);
    }
    .utility {
      margin-top: 4px;
      font-size: 0.85em;
      color: var(--secondary-text-color);
    }
    .binding {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 10px;
      margin-top: 8px;
      align-items: center;
    }
    .vehicle {
      font-weight: 500;
    }
    .outcome {
      padding: 2px 8px;
      border-radius: 10px;
      border: 1px solid var(--pev-accent);
      color: var(--pev-accent);
      font-size: 0.85rem;
    }
    .outcome-no_communications,
    .outcome-not_enrolled {
      border-color: var(--warning-color, #ffa600);
      color: var(--warning-color, #ffa600);
    }
    .party {
      color: var(--pev-muted);
      font-size: 0.85rem;
    }
    .banner {
      display: flex;
      gap: 10px;
      align-items: center;
      margin-top: var(--pev-gap);
      padding: 10px 12px;
      border-radius: 8px;
      border-left: 4px solid var(--info-color, #039be5);
      background: color-mix(in srgb, var(--info-color, #039be5) 12%, transparent);
    }
    .banner.active {
      border-left-color: var(--warning-color, #ffa600);
      background: color-mix(in srgb, var(--warning-color, #ffa600) 16%, transparent);
    }
    .banner-text {
      flex: 1;
      min-width: 0;
    }
    .banner-title {
      font-weight: 500;
    }
    .banner-details {
      font-size: 0.85rem;
    }
    .stats {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(100px, 1fr));
      gap: var(--pev-gap);
      margin-top: var(--pev-gap);
    }
    .stat .value {
      font-size: 1.3rem;
      font-weight: 500;
      font-variant-numeric: tabular-nums;
    }
    .controls {
      display: flex;
      flex-wrap: wrap;
      gap: var(--pev-gap);
      align-items: flex-end;
      margin-top: var(--pev-gap);
    }
    .field {
      display: flex;
      flex-direction: column;
      gap: 4px;
      min-width: 140px;
      flex: 1 1 140px;
    }
    .field label {
      font-size: 0.85rem;
      color: var(--pev-muted);
    }
    .control-slot {
      display: flex;
      gap: 8px;
      align-items: flex-end;
      flex: 1 1 180px;
      min-width: 0;
    }
    .control-slot .field {
      flex: 1 1 auto;
      min-width: 0;
    }
    ha-selector,
    ha-select {
      display: block;
      width: 100%;
    }
    .control-slot.time-slot {
      /* Home Assistant's time control keeps its own width (hours, minutes, AM/PM, clear) */
      flex: 0 1 auto;
    }
    .control-slot.time-slot .field {
      flex: 0 1 auto;
    }
    .control-slot > button {
      flex: none;
      margin-bottom: 4px;
    }
    input.time {
      min-width: 9em;
    }
    .buttons {
      display: flex;
      flex-wrap: wrap;
      gap: 8px;
    }
    select,
    input {
      font: inherit;
      color: var(--primary-text-color);
      background: var(--input-fill-color, var(--secondary-background-color, transparent));
      border: 1px solid var(--pev-divider);
      border-radius: 6px;
      padding: 8px;
      min-height: 40px;
      box-sizing: border-box;
    }
    button {
      font: inherit;
      font-weight: 500;
      border-radius: 20px;
      padding: 8px 16px;
      min-height: 40px;
      cursor: pointer;
      border: 1px solid var(--pev-accent);
    }
    button.primary {
      background: var(--pev-accent);
      color: var(--text-primary-color, #fff);
    }
    button.secondary {
      background: transparent;
      color: var(--pev-accent);
    }
    button.link {
      border: none;
      background: none;
      color: var(--pev-accent);
      padding: 4px 6px;
      min-height: 32px;
    }
    button:disabled {
      opacity: 0.5;
      cursor: default;
    }
    button:focus-visible,
    select:focus-visible,
    input:focus-visible,
    summary:focus-visible {
      outline: 2px solid var(--pev-accent);
      outline-offset: 2px;
    }
    .status {
      min-height: 1.2em;
      margin-top: 8px;
      font-size: 0.9rem;
    }
    .status.ok {
      color: var(--success-color, #43a047);
    }
    section {
      margin-top: var(--pev-gap);
      border-top: 1px solid var(--pev-divider);
      padding-top: var(--pev-gap);
    }
    .section-head {
      display: flex;
      justify-content: space-between;
      align-items: center;
      gap: 8px;
    }
    .ready {
      font-weight: 500;
      color: var(--pev-accent);
    }
    .warn {
      color: var(--warning-color, #ffa600);
    }
    .plan-info {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 12px;
      margin: 4px 0 8px;
    }
    .chart {
      width: 100%;
      overflow: hidden;
    }
    .chart svg {
      display: block;
    }
    .chart .price,
    .swatch.price {
      fill: var(--pev-price);
      background: var(--pev-price);
      opacity: 0.45;
    }
    .chart .bar,
    .swatch.bar {
      fill: var(--pev-accent);
      background: var(--pev-accent);
    }
    .chart .cap-bg {
      fill: color-mix(in srgb, var(--pev-cap) 10%, transparent);
    }
    .chart .cap-line {
      stroke: color-mix(in srgb, var(--pev-cap) 45%, transparent);
      stroke-width: 2;
    }
    .swatch.cap {
      background: color-mix(in srgb, var(--pev-cap) 35%, transparent);
    }
    .chart .cap-limit {
      stroke: var(--pev-cap);
      stroke-width: 1.5;
    }
    .chart .now {
      stroke: var(--primary-text-color);
      stroke-width: 1;
      opacity: 0.6;
    }
    .chart .departure {
      stroke: var(--pev-accent);
      stroke-width: 1.5;
      stroke-dasharray: 4 3;
    }
    .chart .axis,
    .chart .tick {
      stroke: var(--pev-divider);
    }
    .chart text {
      fill: var(--pev-muted);
      font-size: 10px;
      font-family: inherit;
    }
    .chart .departure-label {
      fill: var(--pev-accent);
    }
    .legend {
      display: flex;
      gap: 12px;
      margin-top: 4px;
    }
    .swatch {
      display: inline-block;
      width: 10px;
      height: 10px;
      border-radius: 2px;
      margin-right: 4px;
      vertical-align: middle;
    }
    details.session {
      border-bottom: 1px solid var(--pev-divider);
    }
    .event-history-title {
      margin: 12px 0 4px;
      font-size: 0.95em;
      font-weight: 500;
    }
    ul.event-history {
      margin: 0;
      padding-left: 18px;
      color: var(--secondary-text-color);
    }
    details summary {
      cursor: pointer;
      padding: 8px 0;
    }
    details.session summary {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 10px;
      align-items: baseline;
    }
    details.session summary::before {
      content: "▸";
      color: var(--pev-muted);
    }
    details.session[open] summary::before {
      content: "▾";
    }
    details.session summary::-webkit-details-marker {
      display: none;
    }
    .when {
      color: var(--pev-muted);
      font-size: 0.85rem;
    }
    .who {
      flex: 1;
      min-width: 80px;
    }
    .num {
      font-variant-numeric: tabular-nums;
      text-align: right;
    }
    .quality {
      font-size: 0.75rem;
      padding: 1px 6px;
      border-radius: 8px;
      background: var(--pev-divider);
    }
    .quality-ESTIMATED {
      background: color-mix(in srgb, var(--warning-color, #ffa600) 30%, transparent);
    }
    .quality-MISSING {
      background: color-mix(in srgb, var(--error-color, #db4437) 30%, transparent);
    }
    .intervals {
      overflow-x: auto;
      padding-bottom: 8px;
    }
    table {
      border-collapse: collapse;
      width: 100%;
      font-size: 0.85rem;
    }
    th,
    td {
      padding: 3px 6px;
      text-align: left;
      border-bottom: 1px solid var(--pev-divider);
      white-space: nowrap;
    }
    th {
      color: var(--pev-muted);
      font-weight: 500;
    }
    .event-form {
      margin-top: var(--pev-gap);
      border-top: 1px solid var(--pev-divider);
    }
    .event-form .form {
      display: flex;
      flex-wrap: wrap;
      gap: var(--pev-gap);
      align-items: flex-end;
      padding-bottom: 4px;
    }
  `];
}

/**
 * Define the card in the registry Home Assistant's frontend uses. The frontend may replace
 * `window.customElements` (a scoped registry polyfill) after this module ran: a card defined
 * before that is unknown to it ("Configuration error"). So, inside the frontend, define it once
 * the app shell is defined (the registry is final by then); elsewhere at once.
 */
function register(): void {
  if (!window.customElements.get(CARD_TYPE)) {
    window.customElements.define(CARD_TYPE, PevPortalCard);
  }
  if (!window.customElements.get(EDITOR_TYPE)) {
    window.customElements.define(EDITOR_TYPE, PevPortalCardEditor);
  }
}

function registerWhenReady(): void {
  const shell = ["home-assistant", "hc-main"].find((tag) => document.querySelector(tag));
  if (shell && !window.customElements.get(shell)) {
    window.customElements.whenDefined(shell).then(register, register);
  } else {
    register();
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", registerWhenReady, { once: true });
} else {
  registerWhenReady();
}

declare global {
  interface Window {
    customCards?: Array<Record<string, unknown>>;
  }
}

window.customCards = window.customCards ?? [];
if (!window.customCards.some((card) => card.type === CARD_TYPE)) {
  window.customCards.push({
    type: CARD_TYPE,
    name: localize(navigator.language, "card_name"),
    description: localize(navigator.language, "card_description"),
    preview: true,
    documentationURL: "https://github.com/pev-portal/pev-portal/blob/main/docs/user-guide.md#dashboard",
  });
}

console.info(`%c PEV-PORTAL-CARD %c ${VERSION} `, "background:#03a9f4;color:#fff", "");
