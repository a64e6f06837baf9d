/**
 * Power feed (V2H/V2G) as the card shows it, decided from the dashboard data (pure; tested with
 * node --test): the energy a session fed and its credit (what it earned when its net cost is
 * negative), the feed a plan holds, and each vehicle's battery use.
 */

import { formatEnergy, formatMoney, formatNumber } from "./format";
import { localize } from "./localize";
import type { PlanFeed, SessionData, SessionRow, VehicleData } from "./types";

const finite = (value: number | null | undefined): value is number =>
  typeof value === "number" && Number.isFinite(value);

/** What a session fed back: the energy, its credit, and what it earned (net cost below 0). */
export interface SessionFeed {
  energy: string;
  credit: string | null;
  earned: string | null;
}

/**
 * The session's power feed (null: it fed nothing, or the integration does not meter it).
 * `earned` only when the session's net cost (cost minus credit) is negative.
 */
export function sessionFeed(
  session: Pick<SessionData | SessionRow, "exported_kwh" | "export_credit" | "net_cost"> | null | undefined,
  currency: string,
  lang: string,
): SessionFeed | null {
  if (!session || !finite(session.exported_kwh) || !(session.exported_kwh > 0)) return null;
  const money = (value: number) => formatMoney(value, currency, lang);
  return {
    energy: formatEnergy(session.exported_kwh, lang),
    credit: finite(session.export_credit) ? localize(lang, "feed.credit", { amount: money(session.export_credit) }) : null,
    earned: finite(session.net_cost) && session.net_cost < 0
      ? localize(lang, "feed.earned", { amount: money(-session.net_cost) })
      : null,
  };
}

/** A finished session's feed in its row: "6.50 kWh fed, earned €0.45" (null: none fed). */
export function sessionRowFeed(row: SessionRow, lang: string): string | null {
  const feed = sessionFeed(row, row.currency, lang);
  if (!feed) return null;
  const parts = [localize(lang, "feed.row", { kwh: feed.energy })];
  if (feed.earned) parts.push(feed.earned);
  else if (feed.credit) parts.push(feed.credit);
  return parts.join(", ");
}

/** The plan's power feed in a line: "Feeds 14.8 kWh back (6.00 kWh to the home), credit €3.10". */
export function planFeedText(feed: PlanFeed | null | undefined, currency: string, lang: string): string | null {
  if (!feed || !finite(feed.energy_kwh) || !(feed.energy_kwh > 0)) return null;
  const text = localize(lang, "feed.plan", {
    kwh: formatEnergy(feed.energy_kwh, lang),
    credit: formatMoney(finite(feed.credit) ? feed.credit : null, currency, lang),
  });
  if (!finite(feed.home_kwh) || !(feed.home_kwh > 0)) return text;
  return `${text} · ${localize(lang, "feed.plan_home", { kwh: formatEnergy(feed.home_kwh, lang) })}`;
}

/**
 * A vehicle's battery use: "Family car: 3.3 cycles fed, 41.5 kWh fed this month, state of
 * health 96 %" (null: nothing known, neither metered use nor state of health).
 */
export function batteryUseLine(vehicle: VehicleData, lang: string): string | null {
  const parts: string[] = [];
  const use = vehicle.battery_use;
  if (use && finite(use.cycles) && finite(use.fed_kwh_month)) {
    parts.push(localize(lang, "battery.cycles", { cycles: formatNumber(use.cycles, lang, 1) }));
    parts.push(localize(lang, "battery.month", { kwh: formatEnergy(use.fed_kwh_month, lang) }));
  }
  if (finite(vehicle.state_of_health)) {
    parts.push(localize(lang, "battery.soh", { soh: `${formatNumber(vehicle.state_of_health, lang, 0)}\u00a0%` }));
  }
  if (!parts.length) return null;
  return localize(lang, "battery.line", { vehicle: vehicle.name, use: parts.join(", ") });
}

/** The battery-use lines of the charger's vehicles that have one. */
export function batteryUseLines(vehicles: VehicleData[], lang: string): string[] {
  return vehicles.map((v) => batteryUseLine(v, lang)).filter((line): line is string => line !== null);
}
