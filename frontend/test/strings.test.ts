// Every text the card shows goes through localize: the templates of src/ hold no literal words,
// and every key the sources ask for exists in English (and so, by localize.test.ts, in German
// and French).
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { TRANSLATIONS } from "../src/localize.ts";

const SRC = join(dirname(fileURLToPath(import.meta.url)), "..", "src");
const sources = readdirSync(SRC)
  .filter((name) => name.endsWith(".ts") && name !== "localize.ts")
  .map((name) => ({ name, text: readFileSync(join(SRC, name), "utf8") }));

/** The index after the `}` closing the `${` expression that starts at `i` (just after `${`). */
function skipExpression(src: string, i: number): number {
  let depth = 1;
  while (i < src.length && depth > 0) {
    const ch = src[i];
    if (ch === "{") depth++;
    else if (ch === "}") depth--;
    else if (ch === '"' || ch === "'") {
      i++;
      while (i < src.length && src[i] !== ch) i += src[i] === "\\" ? 2 : 1;
    } else if (ch === "`") {
      i = skipTemplate(src, i + 1).end - 1;
    }
    i++;
  }
  return i;
}

/** The static parts of the template literal whose text starts at `i` (just after the backtick). */
function skipTemplate(src: string, i: number): { parts: string[]; end: number } {
  const parts: string[] = [];
  let part = "";
  while (i < src.length && src[i] !== "`") {
    if (src[i] === "\\") {
      part += src.slice(i, i + 2);
      i += 2;
    } else if (src[i] === "$" && src[i + 1] === "{") {
      parts.push(part);
      part = "";
      i = skipExpression(src, i + 2);
    } else {
      part += src[i++];
    }
  }
  parts.push(part);
  return { parts, end: i + 1 };
}

/** Every html`` and svg`` template of a source, as its static parts joined by a marker. */
function templates(src: string): string[] {
  const found: string[] = [];
  const start = /\b(html|svg)`/g;
  let match: RegExpExecArray | null;
  while ((match = start.exec(src))) {
    found.push(skipTemplate(src, match.index + match[0].length).parts.join("\u0000"));
  }
  return found;
}

const TEXT_ATTRIBUTES = /\s(title|aria-label|placeholder|alt|label)="([^"]*)"/g;

/** The words a template shows as they are written (not through localize). */
function literalWords(template: string): string[] {
  const words: string[] = [];
  const withoutComments = template.replace(/<!--[\s\S]*?-->/g, "");
  for (const tag of withoutComments.match(/<[^>]*>/g) ?? []) {
    for (const [, name, value] of tag.matchAll(TEXT_ATTRIBUTES)) {
      if (/[A-Za-z]/.test(value.replace(/\u0000/g, ""))) words.push(`${name}="${value}"`);
    }
  }
  const text = withoutComments.replace(/<[^>]*>/g, " ");
  for (const chunk of text.split("\u0000")) {
    if (/[A-Za-zÀ-ÿ]/.test(chunk)) words.push(chunk.trim());
  }
  return words;
}

describe("no literal text in the templates", () => {
  it("finds the templates", () => {
    const card = sources.find((s) => s.name === "pev-portal-card.ts");
    assert.ok(card && templates(card.text).length > 20);
  });

  it("would catch a literal word, label or title", () => {
    const words = (src: string) => templates(src).flatMap(literalWords);
    assert.deepEqual(words('x = html`<div class="a">Hello ${x}</div>`;'), ["Hello"]);
    assert.deepEqual(words('html`<button title="Close" aria-label=${y}>${z}</button>`'), ['title="Close"']);
    assert.deepEqual(words('html`<span data-test="state">${t("a")}</span>`'), []);
    assert.deepEqual(words('html`<i>${a ? html`<b>Paused</b>` : nothing}</i>`'), ["Paused"], "nested templates too");
  });

  for (const { name, text } of sources) {
    it(`shows only localized text: ${name}`, () => {
      const words = templates(text).flatMap(literalWords);
      assert.deepEqual(words, [], `${name}: literal text in a template`);
    });
  }
});

describe("every key the card asks for exists", () => {
  const english = TRANSLATIONS.en;
  const calls = /(?:\b_t|\blocalize)\((?:[^,()]+,\s*)?(["`])([^"`]+)\1/g;

  for (const { name, text } of sources) {
    it(name, () => {
      const missing: string[] = [];
      const keys = [...text.matchAll(calls)];
      if (name === "pev-portal-card.ts") assert.ok(keys.length > 50, `only ${keys.length} keys found`);
      for (const [, , key] of keys) {
        const fixed = key.split("${")[0];
        if (key.includes("${")) {
          // A family of keys ("state.${...}"): at least one must exist.
          if (!Object.keys(english).some((k) => k.startsWith(fixed))) missing.push(key);
        } else if (!(key in english)) {
          missing.push(key);
        }
      }
      assert.deepEqual(missing, [], `${name}: keys missing from localize.ts`);
    });
  }
});
