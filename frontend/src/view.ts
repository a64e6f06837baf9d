/**
 * What the card shows, decided from the dashboard data and the card's configuration (pure;
 * tested with node --test). The card (pev-portal-card.ts) and its editor (editor.ts) render it.
 */

import { formatDateTime, formatEnergy, formatNumber, formatTime } from "./format";
import { localize } from "./localize";
import type {
  CardConfig,
  ChargerData,
  DashboardData,
  EventData,
  EventPerformance,
  PlanExplanation,
} from "./types";

/** The sections shown when the configuration does not say otherwise. */
export const SECTION_DEFAULTS = {
  show_plan: true,
  show_history: true,
  show_event_form: true,
} as const;

export type SectionKey = keyof typeof SECTION_DEFAULTS;

/** The configuration with every section's effective value (what the card shows). */
export function withDefaults(config: CardConfig): CardConfig {
  const filled: CardConfig = { ...config };
  for (const [key, value] of Object.entries(SECTION_DEFAULTS) as [SectionKey, boolean][]) {
    if (typeof filled[key] !== "boolean") filled[key] = value;
  }
  return filled;
}

/** The configuration as stored: sections at their default and empty texts left out. */
export function withoutDefaults(config: CardConfig): CardConfig {
  const stored: CardConfig = { ...config };
  for (const [key, value] of Object.entries(SECTION_DEFAULTS) as [SectionKey, boolean][]) {
    if (stored[key] === value) delete stored[key];
  }
  if (!stored.title) delete stored.title;
  if (!stored.device_id) delete stored.device_id;
  return stored;
}

export interface Option {
  value: string;
  label: string;
}

/** The chargers a card may show: the dashboard's chargers that have a device, by name. */
export function chargerOptions(data: DashboardData | undefined): Option[] {
  const chargers = (data?.chargers ?? []).filter((c) => c.device_id);
  const premises = new Set(chargers.map((c) => c.premise));
  return chargers.map((c) => ({
    value: c.device_id as string,
    // The premise tells chargers of the same name apart when there are several premises.
    label: premises.size > 1 ? `${c.name} (${c.premise})` : c.name,
  }));
}

export type ChargerChoice =
  | { kind: "charger"; charger: ChargerData }
  | { kind: "missing" } // the configured charger is gone: never another one instead
  | { kind: "none" }; // no charger at all

/** The charger the card shows: the configured one, or the first when none is configured. */
export function chooseCharger(data: DashboardData | undefined, config: CardConfig): ChargerChoice {
  const chargers = data?.chargers ?? [];
  const { device_id, charger_id } = config;
  // No charger at all (PEV Portal not set up, or its premises reloading): nothing is "missing".
  if (!chargers.length) return { kind: "none" };
  if (device_id || charger_id) {
    const found = chargers.find(
      (c) => (device_id && c.device_id === device_id) || (charger_id && c.charger_id === charger_id),
    );
    return found ? { kind: "charger", charger: found } : { kind: "missing" };
  }
  return { kind: "charger", charger: chargers[0] };
}

/** Pausing makes sense only with a car plugged in (without one there is nothing to pause). */
export function canPause(charger: ChargerData): boolean {
  return charger.session !== null;
}

/** The user paused the session: the plan is not followed until charging is resumed. */
export function isPaused(charger: ChargerData): boolean {
  return charger.session !== null && !charger.charging_enabled;
}

/** What the plan section shows: the user's pause, the plan, or the prices alone. */
export function planMode(charger: ChargerData): "paused" | "plan" | "prices" {
  if (isPaused(charger)) return "paused";
  return charger.plan ? "plan" : "prices";
}

/** The event's origin: the utility's program, or the premise's own (local) events. */
export function eventSource(event: EventData): "utility" | "local" {
  return event.source === "utility" ? "utility" : "local";
}

/** The banner's title key, by origin and whether the event is in force. */
export function eventTitleKey(event: EventData, active: boolean): string {
  return `event.${eventSource(event)}_${active ? "active" : "upcoming"}`;
}

/** The banner's opt-out: done already, offered, or not possible for this event. */
export function optOutState(event: EventData | null | undefined): "opted_out" | "offer" | "none" {
  if (!event) return "none";
  if (event.opted_out) return "opted_out";
  return event.opt_out_allowed ? "offer" : "none";
}

/** A charge mode's label in the language (the key itself for a mode the card does not know). */
export function modeLabel(language: string, mode: string): string {
  const key = `mode.${mode}`;
  const text = localize(language, key);
  return text === key ? mode : text;
}

/** A tariff period's label: the well-known names translated, the tariff's own names as given. */
export function periodLabel(language: string, period: string): string {
  const key = `period.${period}`;
  const text = localize(language, key);
  return text === key ? period : text;
}

/** The kinds of local event the card's form adds (those of the add_local_event action). */
export const EVENT_KINDS = ["price", "load_control", "export_price", "export_limit"] as const;

/** Whether an event kind's value is a price per kWh (else a power limit in kW). */
export function isPriceKind(kind: string): boolean {
  return kind === "price" || kind === "export_price";
}

/**
 * The opt_out action's data for the banner's event: an export limit (power feed) opts the
 * premise out of the export limits in force, any other event the session out of the charging
 * limits in force; one never takes the other with it.
 */
export function optOutData(event: EventData, deviceId: string, confirm: boolean): Record<string, unknown> {
  const data: Record<string, unknown> = { device_id: deviceId, confirm };
  if (event.kind === "export_limit") data.export_limit = true;
  return data;
}

/** An event's name, or its kind in the language when it has none. */
export function eventName(language: string, event: EventData): string {
  return event.name || localize(language, `kind.${event.kind}`);
}

/** Time selector values are "HH:MM:SS"; time entities take the same (seconds added if missing). */
export function timeValue(value: string): string {
  const match = /^(\d{1,2}):(\d{2})(?::(\d{2}))?/.exec(value.trim());
  if (!match) return value;
  return `${match[1].padStart(2, "0")}:${match[2]}:${match[3] ?? "00"}`;
}

const EXPLAINED = new Set(["cap", "circuit", "combined", "departure", "horizon", "charger", "mode"]);

/** Why the plan falls short, in the language (the planner's explanation, times in `timeZone`). */
export function explanationText(
  language: string,
  e: PlanExplanation,
  timeZone?: string,
  now: Date = new Date(),
): string {
  const when = (iso: string | null) => formatDateTime(iso, language, timeZone, now);
  const key = EXPLAINED.has(e.constraint) ? e.constraint : "other";
  const values = { name: e.name, start: when(e.start), end: when(e.end), kwh: formatEnergy(e.kwh, language) };
  let text = localize(language, `explain.${key}`, values);
  if (e.ready_by || e.ready_without) {
    const instead = ["cap", "circuit", "combined"].includes(e.constraint) && e.ready_without;
    text += `; ${localize(language, instead ? "explain.ready_instead" : "explain.ready", {
      time: when(e.ready_by),
      without: when(e.ready_without),
    })}`;
  }
  return text;
}

/**
 * The editor's form (Home Assistant's ha-form schema): only chargers can be picked. While the
 * chargers are still loading (`undefined`), the configured one is not called gone.
 */
export function editorSchema(language: string, chargers: Option[] | undefined, current?: string): Record<string, unknown>[] {
  const options = [...(chargers ?? [])];
  if (chargers !== undefined && current && !options.some((o) => o.value === current)) {
    options.push({ value: current, label: localize(language, "editor.missing_charger") });
  }
  return [
    { name: "device_id", required: true, selector: { select: { mode: "dropdown", options } } },
    { name: "title", selector: { text: {} } },
    {
      type: "grid",
      name: "",
      schema: (Object.keys(SECTION_DEFAULTS) as SectionKey[]).map((name) => ({
        name,
        default: SECTION_DEFAULTS[name],
        selector: { boolean: {} },
      })),
    },
  ];
}

/**
 * One line of the event history: "Tuesday 17:00-20:00: 6.2 kWh shifted, target met, estimated
 * credit 1.86 USD" (the energy shifted once the session ended, the reduction before).
 */
export function eventHistoryLine(row: EventPerformance, lang: string, timeZone?: string): string {
  const start = new Date(row.start);
  let weekday = "";
  if (!Number.isNaN(start.getTime())) {
    try {
      weekday = new Intl.DateTimeFormat(lang, { weekday: "long", timeZone }).format(start);
    } catch {
      weekday = new Intl.DateTimeFormat(lang, { weekday: "long" }).format(start);
    }
  }
  const when = `${weekday} ${formatTime(row.start, lang, timeZone)}-${formatTime(row.end, lang, timeZone)}`;
  const parts: string[] = [];
  const kwh = (value: number) => `${formatNumber(value, lang, 1)}\u00a0kWh`;
  if (row.shifted_kwh !== null && row.shifted_kwh !== undefined) {
    parts.push(localize(lang, "perf.shifted", { kwh: kwh(row.shifted_kwh) }));
  } else if (row.delivered_kwh !== null && row.delivered_kwh !== undefined) {
    parts.push(localize(lang, "perf.reduced", { kwh: kwh(row.delivered_kwh) }));
  } else {
    parts.push(localize(lang, "perf.no_baseline"));
  }
  if (row.target_met === true) parts.push(localize(lang, "perf.target_met"));
  else if (row.target_met === false) parts.push(localize(lang, "perf.target_missed"));
  const amount = row.incentive === null ? NaN : Number(row.incentive);
  if (Number.isFinite(amount)) {
    const money = `${formatNumber(amount, lang, 2)}${row.currency ? `\u00a0${row.currency}` : ""}`;
    parts.push(localize(lang, "perf.credit", { amount: money }));
  }
  return localize(lang, "perf.line", { when: when.trim(), outcome: parts.join(", ") });
}

/** The utility link's line in the card's details (null: the premise has no link). */
export function utilityLine(charger: ChargerData, lang: string): string | null {
  const utility = charger.utility;
  if (!utility || !utility.protocol) return null;
  return localize(lang, utility.connected ? "utility_link" : "utility_link_down", {
    protocol: utility.protocol,
  });
}
