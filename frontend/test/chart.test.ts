import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LABEL_WIDTH, buildChart, chartWindow, hourTicks } from "../src/chart.ts";
import type { ChartInput } from "../src/chart.ts";

const now = new Date("2026-11-22T18:00:00Z");
const iso = (hours: number) => new Date(now.getTime() + hours * 3_600_000).toISOString();

function input(extra: Partial<ChartInput> = {}): ChartInput {
  return {
    prices: [
      { start: iso(0), end: iso(3), price: 0.4, period: "peak" },
      { start: iso(3), end: iso(24), price: 0.2, period: "off_peak" },
    ],
    plan: null,
    caps: [],
    events: [],
    now,
    ...extra,
  };
}

const close = (actual: number | null, expected: number, message?: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-6, `${message ?? ""} ${actual} != ${expected}`);

describe("chart window", () => {
  it("shows the next 24 hours without a plan", () => {
    const { start, end } = chartWindow(input());
    assert.equal(start, now.getTime());
    assert.equal(end, now.getTime() + 24 * 3_600_000);
  });

  it("runs to the departure with a plan", () => {
    const plan = {
      slots: [{ start: iso(1), end: iso(2), power_kw: 11 }],
      departure: iso(12),
      ready_by: iso(2),
    };
    const { start, end } = chartWindow(input({ plan }));
    assert.equal(start, now.getTime());
    assert.equal(end, now.getTime() + 12 * 3_600_000);
  });

  it("is at least an hour long", () => {
    const { start, end } = chartWindow(input({ prices: [{ start: iso(-1), end: iso(0.1), price: 0.3, period: "p" }] }));
    assert.equal(end - start, 3_600_000);
  });
});

describe("plan to chart", () => {
  it("maps prices to a band under the plot, higher for dearer periods", () => {
    const model = buildChart(input(), { width: 480, height: 118, axis: 18, top: 20, priceShare: 0.5 });
    assert.equal(model.plotHeight, 100);
    assert.equal(model.top, 20);
    assert.equal(model.prices.length, 2);
    const [peak, off] = model.prices;
    close(peak.x, 0);
    close(peak.width, 60, "3 of 24 hours of 480 px");
    close(peak.height, 40, "the dearest price fills the band (half of the 80 px under the labels)");
    close(peak.y, 60);
    close(off.x, 60);
    close(off.height, 10, "the cheapest is a quarter of the band");
    assert.equal(model.minPrice, 0.2);
    assert.equal(model.maxPrice, 0.4);
    assert.equal(model.bars.length, 0);
    assert.equal(model.departureX, null);
    close(model.nowX, 0);
  });

  it("draws planned power as bars scaled to the highest power, and marks departure and ready by", () => {
    const plan = {
      slots: [
        { start: iso(0), end: iso(1), power_kw: 0 },
        { start: iso(1), end: iso(2), power_kw: 11 },
        { start: iso(2), end: iso(3), power_kw: 5.5 },
      ],
      departure: iso(4),
      ready_by: iso(3),
      reachable: true,
    };
    const model = buildChart(input({ plan }), { width: 400, height: 118, axis: 18, top: 0 });
    assert.equal(model.bars.length, 2, "no bar for a slot without power");
    close(model.maxPower, 12.1);
    const [full, half] = model.bars;
    close(full.x, 100);
    close(full.width, 99, "a pixel of gap between bars");
    close(full.height, (100 * 11) / 12.1);
    close(half.height, full.height / 2);
    close(full.y + full.height, 100, "bars stand on the axis");
    close(model.departureX, 400);
    close(model.readyByX, 300);
  });

  it("shades caps and load-control events, with the limit line", () => {
    const caps = [{ start: iso(2), end: iso(4), limit_kw: 5.5, name: "peak" }];
    const events = [
      { event_id: "e1", kind: "load_control", start: iso(6), end: iso(8), limit_kw: null, opt_out_allowed: false },
      { event_id: "e2", kind: "price", start: iso(9), end: iso(10), price: 0.9, opt_out_allowed: false },
    ];
    const model = buildChart(input({ caps, events }), { width: 240, height: 118, axis: 18, top: 0 });
    assert.equal(model.caps.length, 2, "the price event is no cap");
    const [cap, event] = model.caps;
    close(cap.x, 20);
    close(cap.width, 20);
    close(cap.limitY, 100 - (100 * 5.5) / 6.05);
    assert.equal(event.limitY, null);
    close(event.x, 60);
  });

  it("clips everything to the window", () => {
    const caps = [{ start: iso(-5), end: iso(1), limit_kw: 3, name: null }];
    const model = buildChart(input({ caps }), { width: 240, height: 100 });
    close(model.caps[0].x, 0);
    close(model.caps[0].width, 10);
  });
});

describe("price label", () => {
  it("is written above the plot, so the planned power never covers it", () => {
    const plan = {
      slots: [
        { start: iso(0), end: iso(3), power_kw: 11 },
        { start: iso(3), end: iso(6), power_kw: 11 },
      ],
      departure: iso(12),
      ready_by: iso(6),
    };
    for (const width of [200, 320, 480, 1200]) {
      const model = buildChart(input({ plan }), { width, height: 150 });
      const label = model.priceLabel;
      assert.ok(label, `a label at ${width} px`);
      assert.equal(label.price, 0.4, "the dearest price");
      const highestBar = Math.min(...model.bars.map((b) => b.y));
      const highestPrice = Math.min(...model.prices.map((p) => p.y));
      assert.ok(label.y < highestBar - 2, `label baseline ${label.y} above the bars (${highestBar}) at ${width} px`);
      assert.ok(label.y < highestPrice, "and above the price band");
      assert.ok(label.y >= 9, "and inside the picture");
      assert.ok(label.x >= 0 && label.x + LABEL_WIDTH <= width + 1, "within the width");
      if (model.departureX !== null) {
        assert.ok(label.x + LABEL_WIDTH <= model.departureX - 120 || label.x >= model.departureX || label.x === 2);
      }
    }
  });

  it("is left out without prices", () => {
    const model = buildChart(input({ prices: [] }), { width: 300, height: 150 });
    assert.equal(model.priceLabel, null);
  });
});

describe("ticks", () => {
  it("puts whole-hour ticks far enough apart", () => {
    const start = Date.parse("2026-11-22T18:20:00Z");
    const end = start + 24 * 3_600_000;
    const narrow = hourTicks(start, end, 320);
    const wide = hourTicks(start, end, 1200);
    assert.ok(narrow.length <= 320 / 56);
    assert.ok(wide.length > narrow.length);
    for (const t of [...narrow, ...wide]) assert.equal(t % 3_600_000, 0);
    assert.ok(narrow[0] >= start);
  });
});
