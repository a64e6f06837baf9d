/** Formatting of amounts and times for the card (pure; tested with node --test). */

const NBSP = "\u00a0";

export function formatNumber(
  value: number | null | undefined,
  locale: string,
  digits = 2,
): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return new Intl.NumberFormat(locale, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

export function formatEnergy(kwh: number | null | undefined, locale: string): string {
  if (kwh === null || kwh === undefined || !Number.isFinite(kwh)) return "–";
  return `${formatNumber(kwh, locale, Math.abs(kwh) < 10 ? 2 : 1)}${NBSP}kWh`;
}

export function formatPower(kw: number | null | undefined, locale: string): string {
  if (kw === null || kw === undefined || !Number.isFinite(kw)) return "–";
  return `${formatNumber(kw, locale, kw === 0 ? 0 : 1)}${NBSP}kW`;
}

/** Money in its currency; `digits` decimals. */
export function formatMoney(
  value: number | null | undefined,
  currency: string,
  locale: string,
  digits = 2,
): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  try {
    return new Intl.NumberFormat(locale, {
      style: "currency",
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(value);
  } catch {
    return `${formatNumber(value, locale, digits)}${NBSP}${currency}`;
  }
}

/** The currency's own decimals (EUR 2, JPY 0, KWD 3); 2 when Intl does not know it. */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/**
 * Decimals for a price per kWh: the currency's own (cents for EUR), one more when the price has
 * it (0.305 EUR), never more (0.30512 EUR shows as 0.305).
 */
export function priceDigits(value: number, currency: string): number {
  const base = currencyDigits(currency);
  const scaled = value * 10 ** base;
  return Math.abs(Math.round(scaled) - scaled) < 1e-6 ? base : base + 1;
}

/** A price per kWh with the currency's decimals plus at most one (see priceDigits). */
export function formatPrice(value: number | null | undefined, currency: string, locale: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return `${formatMoney(value, currency, locale, priceDigits(value, currency))}/kWh`;
}

/** A price per kWh without the unit (tables whose column says it). */
export function formatUnitPrice(value: number | null | undefined, currency: string, locale: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return formatMoney(value, currency, locale, priceDigits(value, currency));
}

function parse(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

function safeZone(timeZone: string | undefined): string | undefined {
  if (!timeZone) return undefined;
  try {
    new Intl.DateTimeFormat("en", { timeZone });
    return timeZone;
  } catch {
    return undefined;
  }
}

/** Hours and minutes in the given time zone (Home Assistant's). */
export function formatTime(iso: string | null | undefined, locale: string, timeZone?: string): string {
  const date = parse(iso);
  if (!date) return "–";
  return new Intl.DateTimeFormat(locale, {
    hour: "2-digit",
    minute: "2-digit",
    timeZone: safeZone(timeZone),
  }).format(date);
}

/** A short date and time; the date is left out when it is today (in that time zone). */
export function formatDateTime(
  iso: string | null | undefined,
  locale: string,
  timeZone?: string,
  now: Date = new Date(),
): string {
  const date = parse(iso);
  if (!date) return "–";
  const zone = safeZone(timeZone);
  const day = new Intl.DateTimeFormat("en-CA", { dateStyle: "short", timeZone: zone });
  if (day.format(date) === day.format(now)) return formatTime(iso, locale, zone);
  return new Intl.DateTimeFormat(locale, {
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: zone,
  }).format(date);
}

/** A duration as "2 h 05 min" / "45 min" / "30 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "–";
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}${NBSP}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}${NBSP}min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `${hours}${NBSP}h ${String(rest).padStart(2, "0")}${NBSP}min`;
}

/** Local date and time "YYYY-MM-DDTHH:MM:SS" of an instant in a time zone (for services). */
export function localIso(date: Date, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat("en-GB", {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZone: safeZone(timeZone),
  }).formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "00";
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}:${get("second")}`;
}
