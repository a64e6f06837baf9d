import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  formatDateTime,
  formatDuration,
  formatEnergy,
  formatMoney,
  formatNumber,
  formatPower,
  formatPrice,
  formatTime,
  currencyDigits,
  localIso,
  priceDigits,
} from "../src/format.ts";

const nbsp = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");

describe("numbers and amounts", () => {
  it("formats numbers in the locale, a dash when missing", () => {
    assert.equal(formatNumber(1234.5, "en"), "1,234.50");
    assert.equal(nbsp(formatNumber(1234.5, "de")), "1.234,50");
    assert.equal(formatNumber(null, "en"), "–");
    assert.equal(formatNumber(Number.NaN, "en"), "–");
  });

  it("formats energy with two decimals below 10 kWh, one above", () => {
    assert.equal(nbsp(formatEnergy(3.456, "en")), "3.46 kWh");
    assert.equal(nbsp(formatEnergy(12.34, "en")), "12.3 kWh");
    assert.equal(nbsp(formatEnergy(0, "de")), "0,00 kWh");
    assert.equal(formatEnergy(undefined, "en"), "–");
  });

  it("formats power, zero without decimals", () => {
    assert.equal(nbsp(formatPower(11.04, "en")), "11.0 kW");
    assert.equal(nbsp(formatPower(0, "en")), "0 kW");
    assert.equal(formatPower(null, "en"), "–");
  });

  it("formats money in its currency", () => {
    assert.equal(formatMoney(1.5, "EUR", "en"), "€1.50");
    assert.equal(nbsp(formatMoney(1.5, "EUR", "de")), "1,50 €");
    assert.equal(nbsp(formatMoney(2, "EUR", "fr")), "2,00 €");
    assert.equal(formatMoney(null, "EUR", "en"), "–");
  });

  it("falls back to the code for a currency Intl does not know", () => {
    assert.equal(nbsp(formatMoney(1, "XXXX", "en")), "1.00 XXXX");
  });

  it("shows prices with the currency's decimals, one more when they have it", () => {
    assert.equal(formatPrice(0.3, "EUR", "en"), "€0.30/kWh");
    assert.equal(formatPrice(0.305, "EUR", "en"), "€0.305/kWh");
    assert.equal(formatPrice(0.30512, "EUR", "en"), "€0.305/kWh", "never 4 decimals for EUR");
    assert.equal(formatPrice(0.1234, "USD", "en"), "$0.123/kWh");
    assert.equal(formatPrice(32, "JPY", "en"), "¥32/kWh", "yen have no decimals");
    assert.equal(formatPrice(31.46, "JPY", "en"), "¥31.5/kWh");
    assert.equal(formatPrice(0.12345, "KWD", "en").replace(/\u00a0/g, " "), "KWD 0.1235/kWh", "dinars have 3");
    assert.equal(formatPrice(0.2, "XXXX", "en").replace(/\u00a0/g, " "), "0.20 XXXX/kWh");
    assert.equal(formatPrice(undefined, "EUR", "en"), "–");
  });

  it("gives each currency its decimals", () => {
    assert.equal(currencyDigits("EUR"), 2);
    assert.equal(currencyDigits("JPY"), 0);
    assert.equal(currencyDigits("KWD"), 3);
    assert.equal(currencyDigits("not a currency"), 2);
    assert.equal(priceDigits(0.25, "EUR"), 2);
    assert.equal(priceDigits(0.2512, "EUR"), 3);
  });
});

describe("times", () => {
  it("formats times in Home Assistant's time zone", () => {
    assert.equal(formatTime("2026-11-22T10:05:00+00:00", "en-GB", "Europe/Berlin"), "11:05");
    assert.equal(formatTime("2026-11-22T10:05:00Z", "en-GB", "UTC"), "10:05");
    assert.equal(formatTime(null, "en"), "–");
    assert.equal(formatTime("not a time", "en"), "–");
  });

  it("ignores an unknown time zone", () => {
    assert.match(formatTime("2026-11-22T10:05:00Z", "en-GB", "Nowhere/Else"), /^\d\d:05$/);
  });

  it("leaves out the date for today only", () => {
    const now = new Date("2026-11-22T12:00:00Z");
    assert.equal(formatDateTime("2026-11-22T10:05:00Z", "en-GB", "UTC", now), "10:05");
    assert.equal(formatDateTime("2026-11-21T10:05:00Z", "en-GB", "UTC", now), "21 Nov, 10:05");
    assert.equal(formatDateTime(undefined, "en-GB", "UTC", now), "–");
  });

  it("formats durations", () => {
    assert.equal(nbsp(formatDuration(30_000)), "30 s");
    assert.equal(nbsp(formatDuration(45 * 60_000)), "45 min");
    assert.equal(nbsp(formatDuration(125 * 60_000)), "2 h 05 min");
    assert.equal(formatDuration(-1), "–");
  });

  it("gives the local wall-clock time of an instant", () => {
    assert.equal(localIso(new Date("2026-11-22T10:05:09Z"), "Europe/Berlin"), "2026-11-22T11:05:09");
    assert.equal(localIso(new Date("2026-07-01T23:30:00Z"), "America/New_York"), "2026-07-01T19:30:00");
  });
});
