// Power feed (V2H/V2G) in the card: the plan chart's discharge below the axis, the session's
// energy fed and credit, the plan's feed, the vehicles' battery use. Fixtures are the shapes
// of docs/power-feed.md's wiring contract (plan slots' feed_kw, the plan's feed object, the
// session summary's exported_kwh/export_credit/net_cost, battery_use).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { TemplateResult } from "lit";
import { buildChart } from "../src/chart.ts";
import type { ChartInput } from "../src/chart.ts";
import { booleanControl } from "../src/controls.ts";
import { batteryUseLine, batteryUseLines, planFeedText, sessionFeed, sessionRowFeed } from "../src/feed.ts";
import type { PlanData, PlanFeed, SessionRow, VehicleData } from "../src/types.ts";

const now = new Date("2026-11-22T16:00:00Z");
const iso = (hours: number) => new Date(now.getTime() + hours * 3_600_000).toISOString();
const nbsp = (text: string | null) => (text ?? "").replace(/\u00a0/g, " ");
const close = (actual: number, expected: number, message?: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-6, `${message ?? ""} ${actual} != ${expected}`);

/** A bidirectional car's evening: feeds 7.4 kW at the peak, charges at night. */
const FEED: PlanFeed = {
  energy_kwh: 14.8,
  home_kwh: 6,
  export_kwh: 8.8,
  credit: 3.1,
  wear: 0.59,
  cycles: 0.27,
  floor: 40,
  gap: 0,
};
const PLAN: PlanData = {
  slots: [
    { start: iso(0), end: iso(1), power_kw: 0, feed_kw: 7.4 },
    { start: iso(1), end: iso(2), power_kw: 0, feed_kw: 3.7 },
    { start: iso(2), end: iso(10), power_kw: 0, feed_kw: 0 },
    { start: iso(10), end: iso(13), power_kw: 7.4, feed_kw: 0 },
  ],
  departure: iso(15),
  ready_by: iso(13),
  reachable: true,
  feed: FEED,
};

function input(plan: PlanData | null): ChartInput {
  return { prices: [{ start: iso(0), end: iso(24), price: 0.3, period: "flat" }], plan, caps: [], events: [], now };
}

describe("the plan chart with power feed", () => {
  it("hangs the power fed back below a zero line, on the charging bars' kW scale", () => {
    const model = buildChart(input(PLAN), { width: 300, height: 118, axis: 18, top: 0 });
    assert.equal(model.plotHeight, 100);
    assert.equal(model.bars.length, 1);
    assert.equal(model.feedBars.length, 2, "no bar for a slot without feed");
    close(model.maxPower, 7.4 * 1.1);
    close(model.maxFeed, 7.4 * 1.1);
    close(model.zeroY, 50, "equal peaks: the zero line halves the plot");
    const [full, half] = model.feedBars;
    assert.equal(full.feed, 7.4);
    close(full.y, model.zeroY, "feed bars hang from the zero line");
    close(full.height, 7.4 * (100 / (2 * 7.4 * 1.1)));
    close(half.height, full.height / 2);
    const [charge] = model.bars;
    close(charge.y + charge.height, model.zeroY, "charging bars stand on it");
    close(charge.height, full.height, "one kW scale both ways");
    assert.ok(full.y + full.height <= model.plotHeight + 1e-9, "within the plot");
    close(full.x, 0);
    close(full.width, 300 / 15 - 1);
  });

  it("keeps the axis as the zero line without power feed (older plans without feed_kw too)", () => {
    const plain: PlanData = { slots: [{ start: iso(1), end: iso(2), power_kw: 11 }], departure: iso(4) };
    const model = buildChart(input(plain), { width: 400, height: 118, axis: 18, top: 0 });
    assert.equal(model.feedBars.length, 0);
    assert.equal(model.maxFeed, 0);
    assert.equal(model.zeroY, model.plotHeight);
    close(model.bars[0].y + model.bars[0].height, 100);
  });

  it("ignores a feed that is no power (negative, NaN, missing) and never draws a NaN", () => {
    const odd: PlanData = {
      slots: [
        { start: iso(0), end: iso(1), power_kw: 0, feed_kw: -5 },
        { start: iso(1), end: iso(2), power_kw: 0, feed_kw: NaN },
        { start: iso(2), end: iso(3), power_kw: 3 },
      ],
    };
    const model = buildChart(input(odd), { width: 240, height: 100 });
    assert.equal(model.feedBars.length, 0);
    assert.equal(model.zeroY, model.plotHeight);
    for (const b of model.bars) assert.ok([b.x, b.y, b.width, b.height].every(Number.isFinite));
  });

  it("draws a cap's limit above the zero line", () => {
    const caps = [{ start: iso(10), end: iso(12), limit_kw: 3.7, name: "peak" }];
    const model = buildChart({ ...input(PLAN), caps }, { width: 300, height: 118, axis: 18, top: 0 });
    const limitY = model.caps[0].limitY as number;
    assert.ok(limitY < model.zeroY);
    close(model.zeroY - limitY, model.feedBars[1].height, "3.7 kW up as 3.7 kW down");
  });
});

const ROW: SessionRow = {
  session_id: "s1",
  started_at: "2026-11-21T17:00:00Z",
  ended_at: "2026-11-22T07:00:00Z",
  pev_id: "PEV-1",
  vehicle: "Family car",
  energy_kwh: 24,
  cost: 2.4,
  currency: "EUR",
  data_quality: "OK",
  outcome: "home",
  billing_party: "premise_customer",
  interval_count: 56,
  exported_kwh: 14.8,
  export_credit: 3.1,
  net_cost: -0.7,
};

describe("the session's power feed", () => {
  it("shows the energy fed, the credit and, with a negative net cost, what it earned", () => {
    const feed = sessionFeed(ROW, "EUR", "en");
    assert.deepEqual(feed && { ...feed, energy: nbsp(feed.energy) }, {
      energy: "14.8 kWh",
      credit: "credit €3.10",
      earned: "earned €0.70",
    });
    assert.equal(sessionFeed({ ...ROW, net_cost: 1.2 }, "EUR", "en")?.earned, null, "a cost is no earning");
    assert.equal(nbsp(sessionFeed(ROW, "EUR", "de")?.earned ?? null), "verdient 0,70 €");
    assert.equal(nbsp(sessionFeed(ROW, "EUR", "fr")?.credit ?? null), "crédit 3,10 €");
  });

  it("shows nothing when nothing was fed or the integration does not meter it", () => {
    assert.equal(sessionFeed({ ...ROW, exported_kwh: 0 }, "EUR", "en"), null);
    assert.equal(sessionFeed({}, "EUR", "en"), null, "older integrations");
    assert.equal(sessionFeed(null, "EUR", "en"), null);
    assert.equal(sessionFeed({ exported_kwh: NaN }, "EUR", "en"), null);
    const noCredit = sessionFeed({ exported_kwh: 2, export_credit: null, net_cost: null }, "EUR", "en");
    assert.deepEqual(noCredit && [noCredit.credit, noCredit.earned], [null, null]);
  });

  it("sums a finished session up in its row", () => {
    assert.equal(nbsp(sessionRowFeed(ROW, "en")), "14.8 kWh fed, earned €0.70");
    assert.equal(nbsp(sessionRowFeed({ ...ROW, net_cost: 0.5 }, "en")), "14.8 kWh fed, credit €3.10");
    assert.equal(sessionRowFeed({ ...ROW, exported_kwh: null }, "en"), null);
  });
});

describe("the plan's power feed", () => {
  it("says what the plan feeds back, its credit and the home's share", () => {
    assert.equal(nbsp(planFeedText(FEED, "EUR", "en")), "Feeds 14.8 kWh back, credit €3.10 · 6.00 kWh of it to the home");
    assert.equal(nbsp(planFeedText({ ...FEED, home_kwh: 0 }, "GBP", "en")), "Feeds 14.8 kWh back, credit £3.10");
    assert.equal(planFeedText(null, "EUR", "en"), null);
    assert.equal(planFeedText({ ...FEED, energy_kwh: 0 }, "EUR", "en"), null);
  });
});

const CAR: VehicleData = {
  pev_id: "PEV-1",
  name: "Family car",
  relation: "home",
  power_feed: { enabled: true, floor: 40, wear_cost: 0.04, cycles_per_day: 1 },
  state_of_health: 96,
  battery_use: { cycles: 3.25, fed_kwh_month: 41.5, fed_kwh_total: 195 },
};

describe("battery use", () => {
  it("gives the cycles fed, the energy fed this month and the state of health", () => {
    assert.equal(
      nbsp(batteryUseLine(CAR, "en")),
      "Family car: 3.3 cycles fed, 41.5 kWh fed this month, state of health 96 %",
    );
    assert.equal(nbsp(batteryUseLine(CAR, "de")), "Family car: 3,3 Zyklen zurückgespeist, 41,5 kWh diesen Monat zurückgespeist, Batteriezustand 96 %");
  });

  it("leaves out what is not known, and a vehicle with nothing to show", () => {
    assert.equal(nbsp(batteryUseLine({ ...CAR, battery_use: undefined }, "en")), "Family car: state of health 96 %");
    assert.equal(nbsp(batteryUseLine({ ...CAR, state_of_health: null }, "en")), "Family car: 3.3 cycles fed, 41.5 kWh fed this month");
    const plain: VehicleData = { pev_id: "PEV-2", name: "Visitor", relation: "guest" };
    assert.equal(batteryUseLine(plain, "en"), null);
    assert.deepEqual(batteryUseLines([plain, CAR], "en").length, 1);
  });
});

describe("the power feed switch", () => {
  const registry = new Map<string, CustomElementConstructor>();
  const g = globalThis as { customElements?: unknown };
  const saved = g.customElements;
  g.customElements = { get: (tag: string) => registry.get(tag) };
  after(() => {
    g.customElements = saved;
  });
  const markup = (t: TemplateResult): string => t.strings.join("{}");

  it("is a checkbox outside Home Assistant, its switch inside, and reports a change once", () => {
    registry.clear();
    const changes: boolean[] = [];
    assert.match(markup(booleanControl({ id: "pev-feed", label: "Power feed", value: false, onChange: () => undefined })), /type="checkbox"/);
    registry.set("ha-selector", class {} as unknown as CustomElementConstructor);
    const t = booleanControl({ id: "pev-feed", label: "Power feed", value: true, onChange: (v) => changes.push(v) });
    assert.match(markup(t), /<ha-selector/);
    assert.ok(t.values.some((v) => v && typeof v === "object" && "boolean" in (v as object)));
    const handler = t.values.find((v) => typeof v === "function") as (ev: unknown) => void;
    const event = (value: unknown) => ({ detail: { value }, stopPropagation: () => undefined });
    handler(event(true)); // unchanged
    handler(event(false));
    assert.deepEqual(changes, [false]);
  });
});
