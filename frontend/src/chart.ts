/**
 * Maps the plan, prices, caps and events onto the timeline chart's coordinates (pure).
 *
 * Power fed back (a slot's `feed_kw`, power feed) is drawn below a zero line, on the same kW
 * scale as the charging power above it; without any, the zero line is the time axis.
 */

import type { CapData, EventData, PlanData, PriceSegment } from "./types";

export interface ChartInput {
  prices: PriceSegment[];
  plan: PlanData | null;
  caps: CapData[];
  events: (EventData | null)[];
  now: Date;
}

export interface ChartSize {
  width: number;
  height: number;
  /** Pixels below the plot for the time axis. */
  axis?: number;
  /** Pixels at the top for the labels (the price scale, the departure): bars stay below them. */
  top?: number;
  /** Share of the plot's height the price band may use (0..1). */
  priceShare?: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PriceRect extends Rect {
  price: number;
  period: string;
}

export interface BarRect extends Rect {
  power: number;
}

/** Power fed back in a slot: a bar hanging below the zero line. */
export interface FeedRect extends Rect {
  feed: number;
}

export interface CapRect extends Rect {
  limit: number | null;
  /** The limit's height in the plot (null: no limit, e.g. an event without one). */
  limitY: number | null;
  name: string | null;
}

/** The price scale's label: the dearest price, written above the plot (never under a bar). */
export interface PriceLabel {
  x: number;
  y: number;
  price: number;
}

export interface Tick {
  x: number;
  time: string;
}

export interface ChartModel {
  width: number;
  height: number;
  plotHeight: number;
  /** The plot's top: bars, price band and limits are drawn between it and plotHeight. */
  top: number;
  start: number;
  end: number;
  prices: PriceRect[];
  bars: BarRect[];
  /** Power fed back, below the zero line (empty without power feed). */
  feedBars: FeedRect[];
  /** Where charging bars stand and feed bars hang (the time axis without power feed). */
  zeroY: number;
  caps: CapRect[];
  nowX: number | null;
  departureX: number | null;
  readyByX: number | null;
  ticks: Tick[];
  maxPower: number;
  /** The scale below the zero line, in kW (0 without power feed). */
  maxFeed: number;
  minPrice: number | null;
  maxPrice: number | null;
  priceLabel: PriceLabel | null;
}

/** Room a label takes, in pixels (about 7 px a character at the chart's 10 px font). */
export const LABEL_WIDTH = 84;
const DEPARTURE_LABEL_WIDTH = 120;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function ms(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const value = Date.parse(iso);
  return Number.isNaN(value) ? null : value;
}

/** The time window shown: from now (or the plan's first slot) to the departure or 24 h. */
export function chartWindow(input: ChartInput): { start: number; end: number } {
  const now = input.now.getTime();
  const slots = input.plan?.slots ?? [];
  const slotStarts = slots.map((s) => ms(s.start)).filter((v): v is number => v !== null);
  const slotEnds = slots.map((s) => ms(s.end)).filter((v): v is number => v !== null);
  const start = Math.min(now, ...slotStarts);
  let end: number;
  if (slotEnds.length) {
    end = Math.max(...slotEnds, ms(input.plan?.departure) ?? 0, ms(input.plan?.ready_by) ?? 0);
  } else {
    const priceEnd = Math.max(0, ...input.prices.map((p) => ms(p.end) ?? 0));
    end = priceEnd > start ? Math.min(priceEnd, start + DAY) : start + DAY;
  }
  const departure = ms(input.plan?.departure);
  if (departure !== null && departure > end) end = departure;
  if (end - start < HOUR) end = start + HOUR;
  return { start, end };
}

/** Hour ticks, every 1, 2, 3, 6 or 12 hours so that labels are at least ~56 px apart. */
export function hourTicks(start: number, end: number, width: number): number[] {
  const span = end - start;
  const fit = Math.max(1, Math.floor(width / 56));
  const step = [1, 2, 3, 6, 12, 24].find((h) => span / (h * HOUR) <= fit) ?? 24;
  const first = Math.ceil(start / (step * HOUR)) * step * HOUR;
  const ticks: number[] = [];
  for (let t = first; t <= end; t += step * HOUR) ticks.push(t);
  return ticks;
}

export function buildChart(input: ChartInput, size: ChartSize): ChartModel {
  const { width } = size;
  const axis = size.axis ?? 18;
  const plotHeight = Math.max(10, size.height - axis);
  const top = Math.min(size.top ?? 16, plotHeight / 2);
  const usable = plotHeight - top;
  const band = usable * (size.priceShare ?? 0.45);
  const { start, end } = chartWindow(input);
  const x = (t: number) => ((t - start) / (end - start)) * width;
  const clip = (a: number | null, b: number | null): [number, number] | null => {
    if (a === null || b === null) return null;
    const lo = Math.max(a, start);
    const hi = Math.min(b, end);
    return hi > lo ? [lo, hi] : null;
  };

  const priceValues = input.prices
    .filter((p) => clip(ms(p.start), ms(p.end)))
    .map((p) => p.price);
  const minPrice = priceValues.length ? Math.min(...priceValues) : null;
  const maxPrice = priceValues.length ? Math.max(...priceValues) : null;
  const prices: PriceRect[] = [];
  for (const p of input.prices) {
    const span = clip(ms(p.start), ms(p.end));
    if (!span || minPrice === null || maxPrice === null) continue;
    const level = maxPrice > minPrice ? 0.25 + (0.75 * (p.price - minPrice)) / (maxPrice - minPrice) : 0.5;
    const height = band * level;
    prices.push({
      x: x(span[0]),
      width: x(span[1]) - x(span[0]),
      y: plotHeight - height,
      height,
      price: p.price,
      period: p.period,
    });
  }

  const slots = input.plan?.slots ?? [];
  const capLimits = input.caps.map((c) => c.limit_kw ?? 0);
  const maxPower = Math.max(1, ...slots.map((s) => s.power_kw || 0), ...capLimits) * 1.1;
  // Fed power shown in the window: the plot splits at a zero line, one kW scale both ways.
  const fed = slots.filter((s) => (s.feed_kw ?? 0) > 0 && clip(ms(s.start), ms(s.end)));
  const maxFeed = fed.length ? Math.max(...fed.map((s) => s.feed_kw as number)) * 1.1 : 0;
  const kwHeight = usable / (maxPower + maxFeed);
  const zeroY = plotHeight - maxFeed * kwHeight;
  const bars: BarRect[] = [];
  const feedBars: FeedRect[] = [];
  for (const slot of slots) {
    const span = clip(ms(slot.start), ms(slot.end));
    if (!span) continue;
    const left = x(span[0]);
    const barWidth = Math.max(1, x(span[1]) - left - 1);
    if (slot.power_kw > 0) {
      const height = kwHeight * slot.power_kw;
      bars.push({ x: left, y: zeroY - height, width: barWidth, height, power: slot.power_kw });
    }
    const feed = slot.feed_kw ?? 0;
    if (feed > 0) feedBars.push({ x: left, y: zeroY, width: barWidth, height: kwHeight * feed, feed });
  }

  const caps: CapRect[] = [];
  const capSources: CapData[] = [...input.caps];
  for (const event of input.events) {
    if (event && event.kind === "load_control" && !input.caps.some((c) => c.start === event.start)) {
      capSources.push({
        start: event.start,
        end: event.end,
        limit_kw: event.limit_kw ?? null,
        name: event.name ?? null,
      });
    }
  }
  for (const cap of capSources) {
    const span = clip(ms(cap.start), ms(cap.end));
    if (!span) continue;
    const limit = cap.limit_kw ?? null;
    caps.push({
      x: x(span[0]),
      y: 0,
      width: x(span[1]) - x(span[0]),
      height: plotHeight,
      limit,
      limitY: limit === null ? null : zeroY - kwHeight * Math.min(limit, maxPower),
      name: cap.name ?? null,
    });
  }

  const at = (iso: string | null | undefined) => {
    const t = ms(iso);
    return t !== null && t >= start && t <= end ? x(t) : null;
  };
  const now = input.now.getTime();
  const departureX = at(input.plan?.departure);
  let priceLabel: PriceLabel | null = null;
  const dearest = prices.find((p) => p.price === maxPrice);
  if (dearest && maxPrice !== null) {
    // Over the dearest period, in the top strip; moved to the left edge when it would run into
    // the departure's label (which ends at the departure line).
    let x = Math.min(Math.max(dearest.x + 2, 2), Math.max(2, width - LABEL_WIDTH));
    if (departureX !== null && x + LABEL_WIDTH > departureX - DEPARTURE_LABEL_WIDTH && x < departureX) x = 2;
    priceLabel = { x, y: Math.max(9, top - 5), price: maxPrice };
  }
  return {
    width,
    height: size.height,
    plotHeight,
    top,
    start,
    end,
    prices,
    bars,
    feedBars,
    zeroY,
    caps,
    nowX: now >= start && now <= end ? x(now) : null,
    departureX,
    readyByX: at(input.plan?.ready_by),
    ticks: hourTicks(start, end, width).map((t) => ({ x: x(t), time: new Date(t).toISOString() })),
    maxPower,
    maxFeed,
    minPrice,
    maxPrice,
    priceLabel,
  };
}
