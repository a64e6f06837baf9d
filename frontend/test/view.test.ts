import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChargerData, DashboardData, EventData } from "../src/types.ts";
import {
  SECTION_DEFAULTS,
  canPause,
  chargerOptions,
  chooseCharger,
  EVENT_KINDS,
  editorSchema,
  eventHistoryLine,
  eventName,
  eventTitleKey,
  explanationText,
  isPaused,
  isPriceKind,
  modeLabel,
  optOutData,
  optOutState,
  periodLabel,
  planMode,
  timeValue,
  utilityLine,
  withDefaults,
  withoutDefaults,
} from "../src/view.ts";
import { localize } from "../src/localize.ts";
import { formatTime } from "../src/format.ts";

function charger(extra: Partial<ChargerData> = {}): ChargerData {
  return {
    entry_id: "entry-home",
    premise: "Home",
    charger_id: "c1",
    name: "Garage",
    device_id: "dev-garage",
    entities: {},
    vehicles: [],
    state: "unplugged",
    charging_enabled: true,
    session: null,
    binding: null,
    price: { value: 0.3, currency: "EUR", period: "flat", until: "2026-11-23T00:00:00Z" },
    prices: [],
    event: null,
    next_event: null,
    plan: null,
    caps: [],
    cap_kw: null,
    sessions: [],
    ...extra,
  };
}

const session = {
  session_id: "s1",
  state: "charging",
  pause_reason: null,
  pev_id: "pev-1",
  vehicle: "Car",
  vehicle_source: "default",
  started_at: "2026-11-22T10:00:00Z",
  energy_kwh: 1,
  charger_kwh: null,
  power_kw: 11,
  cost: 0.3,
  currency: "EUR",
  data_quality: "OK",
};

const plan = {
  slots: [{ start: "2026-11-22T10:00:00Z", end: "2026-11-22T11:00:00Z", power_kw: 11 }],
  ready_by: "2026-11-22T11:00:00Z",
  cost: 3.3,
  reachable: true,
};

function event(extra: Partial<EventData> = {}): EventData {
  return {
    event_id: "e1",
    kind: "load_control",
    name: "Evening peak",
    start: "2026-11-22T17:00:00Z",
    end: "2026-11-22T19:00:00Z",
    opt_out_allowed: true,
    ...extra,
  };
}

describe("editor", () => {
  it("shows each section at its effective value: on unless switched off", () => {
    assert.deepEqual(withDefaults({ type: "custom:pev-portal-card" }), {
      type: "custom:pev-portal-card",
      show_plan: true,
      show_history: true,
      show_event_form: true,
    });
    const off = withDefaults({ type: "x", show_history: false });
    assert.equal(off.show_history, false);
    assert.equal(off.show_plan, true);
  });

  it("stores only what differs from the defaults", () => {
    assert.deepEqual(
      withoutDefaults({ type: "x", device_id: "d", title: "", show_plan: true, show_history: false }),
      { type: "x", device_id: "d", show_history: false },
    );
  });

  it("declares the sections' defaults in the form", () => {
    const grid = editorSchema("en", [])[2] as { schema: { name: string; default: boolean }[] };
    assert.deepEqual(
      grid.schema.map((s) => [s.name, s.default]),
      Object.entries(SECTION_DEFAULTS),
    );
  });

  it("offers only the chargers, named by premise when there are several", () => {
    const data: DashboardData = {
      chargers: [
        charger(),
        charger({ charger_id: "c2", device_id: "dev-cottage", premise: "Cottage", entry_id: "entry-cottage" }),
        charger({ charger_id: "c3", device_id: null }),
      ],
    };
    assert.deepEqual(chargerOptions(data), [
      { value: "dev-garage", label: "Garage (Home)" },
      { value: "dev-cottage", label: "Garage (Cottage)" },
    ]);
    assert.deepEqual(chargerOptions({ chargers: [charger()] }), [{ value: "dev-garage", label: "Garage" }]);
    assert.deepEqual(chargerOptions(undefined), []);
    const picker = editorSchema("en", chargerOptions(data))[0] as {
      name: string;
      selector: { select: { options: { value: string }[] } };
    };
    assert.equal(picker.name, "device_id");
    assert.deepEqual(
      picker.selector.select.options.map((o) => o.value),
      ["dev-garage", "dev-cottage"],
    );
  });

  it("does not call the configured charger gone while the chargers are loading", () => {
    const picker = editorSchema("en", undefined, "dev-garage")[0] as {
      selector: { select: { options: unknown[] } };
    };
    assert.deepEqual(picker.selector.select.options, []);
  });

  it("keeps a configured charger that is gone, marked as such", () => {
    const picker = editorSchema("de", [{ value: "dev-garage", label: "Garage" }], "dev-gone")[0] as {
      selector: { select: { options: { value: string; label: string }[] } };
    };
    assert.deepEqual(picker.selector.select.options.at(-1), {
      value: "dev-gone",
      label: localize("de", "editor.missing_charger"),
    });
  });
});

describe("which charger the card shows", () => {
  const data: DashboardData = {
    chargers: [charger(), charger({ charger_id: "c2", device_id: "dev-cottage", premise: "Cottage" })],
  };

  it("shows the configured charger, by device or charger ID", () => {
    const byDevice = chooseCharger(data, { type: "x", device_id: "dev-cottage" });
    assert.equal(byDevice.kind === "charger" && byDevice.charger.charger_id, "c2");
    const byId = chooseCharger(data, { type: "x", charger_id: "c2" });
    assert.equal(byId.kind === "charger" && byId.charger.charger_id, "c2");
  });

  it("never falls back to another charger when the configured one is gone", () => {
    assert.deepEqual(chooseCharger(data, { type: "x", device_id: "dev-gone" }), { kind: "missing" });
    // Without any charger (not set up, or the premises reloading) there is nothing to miss yet.
    assert.deepEqual(chooseCharger({ chargers: [] }, { type: "x", device_id: "dev-gone" }), { kind: "none" });
  });

  it("shows the first charger only when none is configured", () => {
    const first = chooseCharger(data, { type: "x" });
    assert.equal(first.kind === "charger" && first.charger.charger_id, "c1");
    assert.deepEqual(chooseCharger({ chargers: [] }, { type: "x" }), { kind: "none" });
  });
});

describe("pause and plan", () => {
  it("offers no pause without a car plugged in", () => {
    assert.equal(canPause(charger()), false);
    assert.equal(canPause(charger({ session })), true);
  });

  it("shows the pause instead of the plan while paused", () => {
    const paused = charger({ session: { ...session, state: "paused" }, charging_enabled: false, plan });
    assert.equal(isPaused(paused), true);
    assert.equal(planMode(paused), "paused");
    assert.equal(planMode(charger({ session, plan })), "plan");
    assert.equal(planMode(charger({ session })), "prices");
    assert.equal(planMode(charger()), "prices");
  });

  it("explains a short plan in the language", () => {
    const e = {
      constraint: "cap",
      name: "Evening peak",
      start: "2026-11-22T17:00:00Z",
      end: "2026-11-22T19:00:00Z",
      kwh: 4.5,
      ready_by: "2026-11-22T21:00:00Z",
      ready_without: "2026-11-22T19:30:00Z",
    };
    const now = new Date("2026-11-22T12:00:00Z");
    const text = explanationText("en-GB", e, "UTC", now).replace(/\u00a0/g, " ");
    assert.equal(text, "Evening peak from 17:00 to 19:00 delays 4.50 kWh; ready at 21:00 instead of 19:30");
    const de = explanationText("de", { ...e, constraint: "mode", ready_by: null, ready_without: null }, "UTC", now);
    assert.equal(de.replace(/\u00a0/g, " "), "Laden ist aus (4,50 kWh nicht geplant)");
    assert.match(explanationText("fr", { ...e, constraint: "something new" }, "UTC", now), /^Evening peak retarde/);
  });
});

describe("events", () => {
  it("labels an event by its source", () => {
    assert.equal(eventTitleKey(event(), true), "event.local_active");
    assert.equal(eventTitleKey(event({ source: "local" }), false), "event.local_upcoming");
    assert.equal(eventTitleKey(event({ source: "utility" }), true), "event.utility_active");
    assert.equal(localize("en", eventTitleKey(event(), true), { name: "X" }), "Local event in progress: X");
    assert.equal(localize("en", eventTitleKey(event({ source: "utility" }), true), { name: "X" }), "Utility event in progress: X");
  });

  it("shows opted out once done, the opt-out only when allowed", () => {
    assert.equal(optOutState(event()), "offer");
    assert.equal(optOutState(event({ opted_out: true })), "opted_out");
    assert.equal(optOutState(event({ opt_out_allowed: false })), "none");
    assert.equal(optOutState(null), "none");
  });

  it("names an unnamed event by its kind", () => {
    assert.equal(eventName("de", event({ name: null, kind: "price" })), "Preisereignis");
    assert.equal(eventName("en", event()), "Evening peak");
  });

  it("names an unnamed export event as what it is, in each language", () => {
    assert.equal(eventName("en", event({ name: null, kind: "export_price" })), "Export price");
    assert.equal(eventName("de", event({ name: null, kind: "export_limit" })), "Einspeisegrenze");
    assert.equal(eventName("fr", event({ name: null, kind: "export_limit" })), "Limite d'injection");
    assert.equal(localize("en", "event.export_limit", { limit: "3.0 kW" }), "export limit 3.0 kW");
    assert.equal(localize("de", "event.export_price", { price: "0,25 €/kWh" }), "Einspeisepreis 0,25 €/kWh");
  });

  it("opts out of an export limit as an export limit, of anything else as charging's", () => {
    assert.deepEqual(optOutData(event({ kind: "export_limit" }), "dev1", false), {
      device_id: "dev1",
      confirm: false,
      export_limit: true,
    });
    assert.deepEqual(optOutData(event({ kind: "load_control" }), "dev1", true), { device_id: "dev1", confirm: true });
  });

  it("adds export events with the form: a price for an export price, a limit for an export limit", () => {
    assert.deepEqual([...EVENT_KINDS], ["price", "load_control", "export_price", "export_limit"]);
    assert.equal(isPriceKind("export_price"), true);
    assert.equal(isPriceKind("export_limit"), false);
    assert.equal(isPriceKind("load_control"), false);
  });
});

describe("labels", () => {
  it("translates charge modes, keeping unknown ones", () => {
    assert.equal(modeLabel("en", "cheapest"), "Cheapest by departure");
    assert.equal(modeLabel("de", "immediate"), "Sofort");
    assert.equal(modeLabel("fr", "off"), "Arrêt");
    assert.equal(modeLabel("en", "turbo"), "turbo");
  });

  it("translates well-known periods, keeping the tariff's own names", () => {
    assert.equal(periodLabel("en", "off_peak"), "Off-peak");
    assert.equal(periodLabel("de", "flat"), "Einheitspreis");
    assert.equal(periodLabel("en", "Summer evenings"), "Summer evenings");
  });
});

describe("times", () => {
  it("gives time entities HH:MM:SS whatever the control returned", () => {
    assert.equal(timeValue("23:00"), "23:00:00");
    assert.equal(timeValue("7:05"), "07:05:00");
    assert.equal(timeValue("23:00:30"), "23:00:30");
    assert.equal(timeValue("garbage"), "garbage");
  });
});

describe("eventHistoryLine", () => {
  const row = {
    event_id: "evt-1",
    name: "Peak",
    source: "utility",
    kind: "load_control",
    start: "2026-11-24T17:00:00Z", // a Tuesday
    end: "2026-11-24T20:00:00Z",
    final: true,
    delivered_kwh: 6.4,
    shifted_kwh: 6.2,
    compliance: 1,
    target_met: true,
    incentive: "1.86",
    currency: "USD",
  };

  // The times as the card shows them elsewhere (12-hour in English).
  const hours = `${formatTime(row.start, "en", "UTC")}-${formatTime(row.end, "en", "UTC")}`;

  it("reads like the issue's example, in the card's language", () => {
    assert.equal(
      eventHistoryLine(row, "en", "UTC"),
      `Tuesday ${hours}: 6.2\u00a0kWh shifted, target met, estimated credit 1.86\u00a0USD`,
    );
    assert.equal(
      eventHistoryLine(row, "de", "UTC"),
      "Dienstag 17:00-20:00: 6,2\u00a0kWh verschoben, Ziel erreicht, geschätzte Gutschrift 1,86\u00a0USD",
    );
    assert.match(eventHistoryLine(row, "fr", "UTC"), /^mardi 17:00-20:00 : 6,2\u00a0kWh décalés/);
  });

  it("shows the reduction until the session ended, and no credit without rules", () => {
    const early = { ...row, final: false, shifted_kwh: null, target_met: null, incentive: null };
    assert.equal(eventHistoryLine(early, "en", "UTC"), `Tuesday ${hours}: 6.4\u00a0kWh reduced`);
    const none = { ...early, delivered_kwh: null, target_met: false };
    assert.equal(
      eventHistoryLine(none, "en", "UTC"),
      `Tuesday ${hours}: no baseline, target missed`,
    );
  });
});

describe("utilityLine", () => {
  it("names the utility link's protocol, translated, and says when it is down", () => {
    const openadr2 = charger({ utility: { protocol: "OpenADR 2.0b", connected: true } });
    assert.equal(utilityLine(openadr2, "en"), "Utility link: OpenADR 2.0b");
    assert.equal(utilityLine(openadr2, "de"), "Verbindung zum Versorger: OpenADR 2.0b");
    assert.equal(utilityLine(openadr2, "fr"), "Liaison avec le fournisseur : OpenADR 2.0b");
    const down = charger({ utility: { protocol: "OpenADR 3.1", connected: false } });
    assert.equal(utilityLine(down, "en"), "Utility link: OpenADR 3.1 (not reachable)");
  });

  it("shows nothing without a link (or from an integration that does not send it)", () => {
    assert.equal(utilityLine(charger({ utility: null }), "en"), null);
    assert.equal(utilityLine(charger(), "en"), null);
  });
});
