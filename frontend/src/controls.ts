/**
 * Form controls that look and behave like Home Assistant's own: its `ha-select` for lists, and
 * its `ha-selector` element (the one its forms use; it loads ha-time-input and the number and
 * text fields itself) given a selector config for the rest. Where the frontend has not defined `ha-selector` (outside Home
 * Assistant, or a frontend without it), the browser's own elements with a label stand in.
 *
 * Every control reports a change once, with the new value; `id` names the control (tests and
 * labels find it by that).
 */

import { html, type TemplateResult } from "lit";
import type { Option } from "./view";

export interface ControlOptions<T> {
  id: string;
  label: string;
  value: T;
  disabled?: boolean;
  hass?: unknown;
  onChange: (value: T) => void;
}

/** True when Home Assistant's frontend has defined `ha-selector` in this page. */
export function haSelectorDefined(): boolean {
  return typeof customElements !== "undefined" && customElements.get("ha-selector") !== undefined;
}

function selectorControl<T>(c: ControlOptions<T>, selector: Record<string, unknown>, kind: string): TemplateResult {
  return html`<div class="field"><ha-selector
    id=${c.id}
    class="control ${kind}"
    data-control=${kind}
    .hass=${c.hass}
    .selector=${selector}
    .value=${c.value}
    .label=${c.label}
    .required=${kind === "select"}
    .disabled=${Boolean(c.disabled)}
    @value-changed=${(ev: CustomEvent<{ value: T }>) => {
      ev.stopPropagation();
      // A cleared text field reports no value: that is the empty text.
      const value = ev.detail?.value ?? (kind === "text" ? ("" as T) : undefined);
      if (value !== undefined && value !== null && value !== c.value) c.onChange(value);
    }}
  ></ha-selector></div>`;
}

const fallbackLabel = (c: { id: string; label: string }) => html`<label for=${c.id}>${c.label}</label>`;

/**
 * True when the frontend's `ha-select` takes its options as a property and reports a choice with
 * a `selected` event (Home Assistant 2026.x; the older one, built on mwc-select, took list items).
 */
export function haSelectDefined(): boolean {
  const element = typeof customElements !== "undefined" ? customElements.get("ha-select") : undefined;
  return element !== undefined && "options" in element.prototype && "clearable" in element.prototype;
}

/** A drop-down list of options (Home Assistant's ha-select, as in its entities' dialogs). */
export function selectControl(c: ControlOptions<string> & { options: Option[] }): TemplateResult {
  if (haSelectDefined()) {
    return html`<div class="field"><ha-select
      id=${c.id}
      class="control select"
      data-control="select"
      .label=${c.label}
      .value=${c.value}
      .options=${c.options}
      .disabled=${Boolean(c.disabled)}
      @selected=${(ev: CustomEvent<{ value?: string }>) => {
        ev.stopPropagation();
        const value = ev.detail?.value;
        if (typeof value === "string" && value !== c.value) c.onChange(value);
      }}
    ></ha-select></div>`;
  }
  if (haSelectorDefined()) {
    return selectorControl(c, { select: { mode: "dropdown", options: c.options } }, "select");
  }
  return html`<div class="field">
    ${fallbackLabel(c)}
    <select
      id=${c.id}
      data-control="select"
      ?disabled=${c.disabled}
      @change=${(ev: Event) => c.onChange((ev.target as HTMLSelectElement).value)}
    >
      ${c.options.map((o) => html`<option value=${o.value} ?selected=${o.value === c.value}>${o.label}</option>`)}
    </select>
  </div>`;
}

/** A time of day, "HH:MM:SS" (Home Assistant's time control shows 12 or 24 hours by the user's setting). */
export function timeControl(c: ControlOptions<string>): TemplateResult {
  if (haSelectorDefined()) return selectorControl(c, { time: { no_second: true } }, "time");
  return html`<div class="field">
    ${fallbackLabel(c)}
    <input
      id=${c.id}
      data-control="time"
      type="time"
      class="time"
      .value=${c.value.slice(0, 5)}
      ?disabled=${c.disabled}
      @change=${(ev: Event) => c.onChange((ev.target as HTMLInputElement).value)}
    />
  </div>`;
}

/** A number in a box, with its unit. */
export function numberControl(
  c: ControlOptions<number> & { min?: number; max?: number; step?: number; unit?: string },
): TemplateResult {
  if (haSelectorDefined()) {
    const number: Record<string, unknown> = { mode: "box", step: c.step ?? 1 };
    if (c.min !== undefined) number.min = c.min;
    if (c.max !== undefined) number.max = c.max;
    if (c.unit) number.unit_of_measurement = c.unit;
    return selectorControl(c, { number }, "number");
  }
  return html`<div class="field">
    ${fallbackLabel({ id: c.id, label: c.unit ? `${c.label} (${c.unit})` : c.label })}
    <input
      id=${c.id}
      data-control="number"
      type="number"
      min=${c.min ?? ""}
      max=${c.max ?? ""}
      step=${c.step ?? 1}
      .value=${String(c.value)}
      ?disabled=${c.disabled}
      @change=${(ev: Event) => {
        const value = Number((ev.target as HTMLInputElement).value);
        if (Number.isFinite(value)) c.onChange(value);
      }}
    />
  </div>`;
}

/** A line of text. */
export function textControl(c: ControlOptions<string>): TemplateResult {
  if (haSelectorDefined()) return selectorControl(c, { text: {} }, "text");
  return html`<div class="field">
    ${fallbackLabel(c)}
    <input
      id=${c.id}
      data-control="text"
      type="text"
      .value=${c.value}
      ?disabled=${c.disabled}
      @input=${(ev: Event) => c.onChange((ev.target as HTMLInputElement).value)}
    />
  </div>`;
}

/** On or off (Home Assistant's switch, as its boolean selector draws it; else a checkbox). */
export function booleanControl(c: ControlOptions<boolean>): TemplateResult {
  if (haSelectorDefined()) return selectorControl(c, { boolean: {} }, "boolean");
  return html`<div class="field">
    ${fallbackLabel(c)}
    <input
      id=${c.id}
      data-control="boolean"
      type="checkbox"
      .checked=${c.value}
      ?disabled=${c.disabled}
      @change=${(ev: Event) => c.onChange((ev.target as HTMLInputElement).checked)}
    />
  </div>`;
}
