import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TRANSLATIONS, localize, resolveLanguage } from "../src/localize.ts";

describe("localize", () => {
  it("has every English string in German and French", () => {
    const english = Object.keys(TRANSLATIONS.en).sort();
    for (const language of ["de", "fr"]) {
      assert.deepEqual(Object.keys(TRANSLATIONS[language]).sort(), english, language);
    }
  });

  it("keeps the placeholders of each string", () => {
    const names = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
    for (const [key, text] of Object.entries(TRANSLATIONS.en)) {
      for (const language of ["de", "fr"]) {
        assert.deepEqual(names(TRANSLATIONS[language][key]), names(text), `${language} ${key}`);
      }
    }
  });

  it("picks the base language and falls back to English", () => {
    assert.equal(resolveLanguage("de-AT"), "de");
    assert.equal(resolveLanguage("fr_CA"), "fr");
    assert.equal(resolveLanguage("nl"), "en");
    assert.equal(resolveLanguage(undefined), "en");
  });

  it("fills placeholders and leaves unknown ones", () => {
    assert.equal(localize("en", "ready_by", { time: "06:30" }), "Ready by 06:30");
    assert.equal(localize("de", "ready_by", { time: "06:30" }), "Fertig um 06:30");
    assert.equal(localize("fr", "state.charging"), "En charge");
    assert.equal(localize("en", "ready_by"), "Ready by {time}");
    assert.equal(localize("en", "no.such.key"), "no.such.key");
  });
});
