// The card's controls: Home Assistant's elements when the frontend defines them, else the
// browser's own, each with a label (rendered to lit templates; no DOM needed).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { TemplateResult } from "lit";
import { haSelectDefined, haSelectorDefined, numberControl, selectControl, textControl, timeControl } from "../src/controls.ts";

/** The markup of a template, its values as "{}" (nested templates expanded). */
function markup(t: TemplateResult): string {
  return t.strings.reduce((out, s, i) => {
    const v = t.values[i - 1];
    const shown = v && typeof v === "object" && "strings" in v ? markup(v as TemplateResult) : "{}";
    return out + shown + s;
  });
}

const base = { id: "pev-x", label: "Label", hass: {} };
const options = [
  { value: "a", label: "A" },
  { value: "b", label: "B" },
];

const registry = new Map<string, CustomElementConstructor>();
const g = globalThis as { customElements?: unknown };
const saved = g.customElements;
g.customElements = { get: (tag: string) => registry.get(tag) };
after(() => {
  g.customElements = saved;
});

describe("controls", () => {
  it("are the browser's own, labelled, without Home Assistant's elements", () => {
    registry.clear();
    assert.equal(haSelectDefined(), false);
    assert.equal(haSelectorDefined(), false);
    const select = markup(selectControl({ ...base, value: "a", options, onChange: () => undefined }));
    assert.match(select, /<label for=\{\}>\{\}<\/label>\s*<select/);
    assert.match(markup(timeControl({ ...base, value: "23:00:00", onChange: () => undefined })), /<input[^>]*type="time"/);
    assert.match(markup(numberControl({ ...base, value: 1, unit: "kW", onChange: () => undefined })), /<input[^>]*type="number"/);
    assert.match(markup(textControl({ ...base, value: "", onChange: () => undefined })), /<input[^>]*type="text"/);
  });

  it("are Home Assistant's when it defines them", () => {
    // Lit's reactive properties are accessors on the prototype.
    class HaSelect {
      get options(): unknown[] {
        return [];
      }
      get clearable(): boolean {
        return false;
      }
    }
    registry.set("ha-select", HaSelect as unknown as CustomElementConstructor);
    registry.set("ha-selector", class {} as unknown as CustomElementConstructor);
    assert.equal(haSelectDefined(), true);
    assert.match(markup(selectControl({ ...base, value: "a", options, onChange: () => undefined })), /<ha-select/);
    for (const t of [
      timeControl({ ...base, value: "23:00:00", onChange: () => undefined }),
      numberControl({ ...base, value: 1, onChange: () => undefined }),
      textControl({ ...base, value: "", onChange: () => undefined }),
    ]) {
      assert.match(markup(t), /<ha-selector/);
      assert.doesNotMatch(markup(t), /<input/);
    }
  });

  it("passes the selector config and reports changes once", () => {
    const changes: number[] = [];
    const t = numberControl({ ...base, value: 80, min: 10, max: 100, step: 5, unit: "%", onChange: (v) => changes.push(v) });
    const selector = t.values.find((v) => v && typeof v === "object" && "number" in (v as object));
    assert.deepEqual(selector, { number: { mode: "box", step: 5, min: 10, max: 100, unit_of_measurement: "%" } });
    const handler = t.values.find((v) => typeof v === "function") as (ev: unknown) => void;
    const event = (value: unknown) => ({ detail: { value }, stopPropagation: () => undefined });
    handler(event(80)); // unchanged: nothing to do
    handler(event(90));
    handler(event(undefined));
    assert.deepEqual(changes, [90]);
  });

  it("an old ha-select (list items, no options property) is not used", () => {
    registry.set("ha-select", class {} as unknown as CustomElementConstructor);
    assert.equal(haSelectDefined(), false);
    assert.match(markup(selectControl({ ...base, value: "a", options, onChange: () => undefined })), /<ha-selector/);
  });
});
