// End-to-end check of the PEV Portal card in a real Home Assistant, in headless Chromium.
//
// Run by tests/e2e/test_dashboard.py, which sets PEV Portal up on the demo charger in the
// end-to-end tests' one Home Assistant (harness.py) and creates the dashboard. Input (environment):
//   PEV_E2E_URL, PEV_E2E_TOKENS, PEV_E2E_OUTPUT, PEV_E2E_CHROMIUM: see common.mjs
//   PEV_E2E_DASHBOARD  the dashboard's path (/pev-portal/charging)
//   PEV_E2E_ENTITIES   JSON: the charger's entity IDs by translation key
// Output: one JSON object on stdout with what was seen; the pytest test asserts it.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";

import { api, captureConsole, failed, finish, here, launch, output, url } from "./common.mjs";

const dashboard = process.env.PEV_E2E_DASHBOARD;
const entities = JSON.parse(process.env.PEV_E2E_ENTITIES);

const CARD = "pev-portal-card";
const sel = (test) => `${CARD} [data-test="${test}"]`;
const result = { steps: [], errors: [], console_errors: [] };
const started = Date.now();
const step = (name, data = {}) => {
  result.steps.push({ name, at_ms: Date.now() - started, ...data });
};

const service = (domain, name, data) => api("POST", `/api/services/${domain}/${name}`, data);

/** The card's English strings without placeholders (from frontend/src/localize.ts). */
async function englishStrings() {
  const source = await readFile(resolve(here, "../../frontend/src/localize.ts"), "utf8");
  const block = source.slice(source.indexOf("const en: Strings = {"), source.indexOf("const de: Strings = {"));
  return [...block.matchAll(/^\s+"?([\w.]+)"?: "(.*)",$/gm)].map((m) => ({ key: m[1], text: m[2] }));
}

// In the page: the card element, and what a person reads in an element, shadow roots included.
const IN_PAGE = `
window.__pevCard = () => {
  const find = (node) => {
    if (!node) return null;
    if (node.localName === "pev-portal-card") return node;
    for (const child of [...(node.shadowRoot?.children ?? []), ...node.children]) {
      const found = find(child);
      if (found) return found;
    }
    return null;
  };
  return find(document.querySelector("home-assistant"));
};
window.__pevDeepText = (node) => {
  if (!node) return "";
  if (node.nodeType === Node.TEXT_NODE) return node.textContent;
  if (node.nodeType !== Node.ELEMENT_NODE && node.nodeType !== Node.DOCUMENT_FRAGMENT_NODE) return "";
  if (node.localName === "style" || node.localName === "script") return "";
  let text = "";
  // As drawn: an element with a shadow root shows that (its children only where slotted).
  const slotted = node.localName === "slot" ? node.assignedNodes({ flatten: true }) : [];
  const children = node.shadowRoot ? [node.shadowRoot] : slotted.length ? slotted : node.childNodes;
  for (const child of children) text += " " + window.__pevDeepText(child);
  if (node.localName === "input" && node.type !== "hidden") text += " " + node.value;
  return text.replace(/\\s+/g, " ").trim();
};
window.__pevDeepAll = (root, selector) => {
  const found = [];
  const walk = (node) => {
    if (!node) return;
    if (node.querySelectorAll) found.push(...node.querySelectorAll(selector));
    const all = node.querySelectorAll ? node.querySelectorAll("*") : [];
    for (const el of all) if (el.shadowRoot) walk(el.shadowRoot);
    if (node.shadowRoot) walk(node.shadowRoot);
  };
  walk(root);
  return [...new Set(found)];
};
`;

let session;
try {
  session = await launch("pev-e2e-chromium-", { viewport: { width: 1280, height: 1000 }, acceptDownloads: true }, [IN_PAGE]);
  const { context, page } = session;
  // Errors from the integration (its card, its API, its messages) fail the test; others, from
  // Home Assistant's own frontend (e.g. an "Object" it logs while the entry reloads), are
  // reported in other_console so they are seen, not hidden.
  captureConsole(page, result, { values: true });

  const text = async (test) => (await page.locator(sel(test)).first().innerText()).trim();
  // What a person reads in a control of the card (Home Assistant's elements draw it in their
  // own shadow roots, which innerText does not enter).
  const deepText = (test) =>
    page.evaluate((t) => window.__pevDeepText(window.__pevCard().shadowRoot.querySelector(`[data-test="${t}"]`)), test);
  const waitText = async (test, expected, timeout) => {
    const t0 = Date.now();
    await page.locator(sel(test)).filter({ hasText: expected }).first().waitFor({ timeout });
    return Date.now() - t0;
  };

  // 1. The card renders with the demo charger's values.
  await page.goto(url + dashboard, { waitUntil: "domcontentloaded" });
  await page.locator(sel("state")).waitFor({ timeout: 90_000 });
  result.card_loaded_ms = Date.now() - started;
  result.idle = {
    name: (await page.locator(`${CARD} h2.name`).innerText()).trim(),
    state: await text("state"),
    vehicle: await text("vehicle"),
    price: await text("price"),
    card_module: await page.evaluate(() => customElements.get("pev-portal-card") !== undefined),
    // Without a car there is nothing to pause.
    pause_disabled: await page.locator(sel("toggle-charging")).isDisabled(),
    // The controls are Home Assistant's own elements, not the browser's.
    controls: await page.evaluate(() => {
      const shadow = window.__pevCard().shadowRoot;
      return {
        ha_elements: [...shadow.querySelectorAll("ha-selector, ha-select")].map((e) => `${e.localName}#${e.id}`),
        native: [...shadow.querySelectorAll("select, input")].map((e) => e.id || e.localName),
      };
    }),
  };
  step("idle");

  // 1b. The card editor offers only chargers and shows the sections that are shown as on; a new
  // card from the card picker gets the charger; a card whose charger is gone says so.
  result.editor = await page.evaluate(async () => {
    const hass = document.querySelector("home-assistant").hass;
    const Card = customElements.get("pev-portal-card");
    const stub = await Card.getStubConfig(hass);
    const editor = Card.getConfigElement();
    editor.hass = hass;
    editor.setConfig({ type: "custom:pev-portal-card", ...stub });
    const changes = [];
    editor.addEventListener("config-changed", (ev) => changes.push(ev.detail.config));
    document.body.appendChild(editor);
    const until = async (check) => {
      for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
      return check();
    };
    const form = () => editor.shadowRoot.querySelector("ha-form");
    await until(() => form()?.schema?.[0]?.selector?.select?.options?.length > 0);
    await until(() => window.__pevDeepAll(form(), "ha-switch").length >= 3);
    const switches = window.__pevDeepAll(form(), "ha-switch").map((s) => s.checked);
    const options = form().schema[0].selector.select.options.map((o) => o.label);
    const data = { ...form().data };
    // Switch the history off: the stored configuration says so, and only that.
    const historyOff = { ...data, show_history: false };
    form().dispatchEvent(new CustomEvent("value-changed", { detail: { value: historyOff } }));
    editor.remove();

    const gone = document.createElement("pev-portal-card");
    gone.setConfig({ type: "custom:pev-portal-card", device_id: "no-such-device" });
    gone.hass = hass;
    document.body.appendChild(gone);
    await until(() => gone.shadowRoot?.querySelector('[data-test="missing-charger"]'));
    const missing = gone.shadowRoot.querySelector('[data-test="missing-charger"]')?.textContent.trim();
    const fallback = gone.shadowRoot.querySelector("[data-charger]") !== null;
    gone.remove();
    return { stub, options, data, switches, changes, missing, fallback };
  });
  step("editor");

  // 2. Plug the demo car in: the card shows it within 2 s.
  const plugStart = Date.now();
  await service("switch", "turn_on", { entity_id: entities.demo_plug });
  await page
    .locator(sel("vehicle"))
    .filter({ hasText: "Demo car" })
    .waitFor({ timeout: 10_000 });
  await page.locator(sel("state")).filter({ hasNotText: "Unplugged" }).waitFor({ timeout: 10_000 });
  result.plug_in_ms = Date.now() - plugStart;
  result.plugged = { state: await text("state"), vehicle: await text("vehicle"), outcome: await text("outcome"), party: await text("party") };
  step("plugged", { ms: result.plug_in_ms });

  await waitText("state", "Charging", 15_000);
  await page.locator(sel("power")).filter({ hasNotText: /^\s*Power\s*0 kW\s*$/ }).waitFor({ timeout: 15_000 });
  result.charging = { state: await text("state"), power: await text("power"), energy: await text("energy"), cost: await text("cost") };
  step("charging");

  // The vehicle's controls: the charge mode by its name, the departure in the user's 12-hour
  // clock (set to 23:00, the control shows 11:00 PM).
  const departureEntity = await page.evaluate(() => window.__pevCard()._data?.chargers?.[0]?.entities?.departure ?? null);
  result.departure_entity = departureEntity;
  if (departureEntity) await service("time", "set_value", { entity_id: departureEntity, time: "23:00:00" });
  await page.waitForFunction(() => /PM/.test(window.__pevDeepText(window.__pevCard().shadowRoot.querySelector('[data-test="departure"]'))), null, { timeout: 10_000 }).catch(() => undefined);
  result.vehicle_controls = {
    charge_mode: await deepText("charge-mode"),
    departure: await deepText("departure"),
    vehicle: await deepText("vehicle-select"),
  };
  // Typed in the card: 10 (still PM), then Set: the time entity is at 22:00.
  if (departureEntity) {
    const hours = page.locator(`${CARD} #pev-departure input`).first();
    await hours.fill("10");
    await hours.press("Tab");
    await page.locator(sel("set-departure")).click();
    await waitText("status", "Departure set", 10_000);
    result.vehicle_controls.departure_set = (await api("GET", `/api/states/${departureEntity}`)).state;
  }
  // Power feed (V2H/V2G): the car's switch and floor are among its controls; the switch is
  // turned on in the card.
  result.vehicle_controls.power_feed = await deepText("power-feed");
  result.vehicle_controls.power_feed_floor = await deepText("power-feed-floor");
  const feedEntity = await page.evaluate(() => window.__pevCard()._data?.chargers?.[0]?.entities?.power_feed ?? null);
  if (feedEntity) {
    await page.locator(`${CARD} #pev-power_feed ha-switch`).first().click();
    await waitText("status", "Power feed set", 10_000);
    result.vehicle_controls.power_feed_state = (await api("GET", `/api/states/${feedEntity}`)).state;
    await service("switch", "turn_off", { entity_id: feedEntity });
  }
  step("vehicle controls");

  // 3. Pause with the card, then "Charge now": the session state follows.
  await page.locator(sel("toggle-charging")).click();
  await waitText("state", "Paused", 15_000);
  await page.locator(sel("plan-paused")).waitFor({ timeout: 10_000 });
  result.paused = {
    state: await text("state"),
    status: await text("status"),
    button: await text("toggle-charging"),
    plan: await text("plan-paused"),
    ready_by: await page.locator(sel("ready-by")).count(),
  };
  step("paused");
  const chargeNowStart = Date.now();
  await page.locator(sel("charge-now")).click();
  await waitText("state", "Charging", 15_000);
  result.charge_now_ms = Date.now() - chargeNowStart;
  result.charge_now = { state: await text("state"), status: await text("status") };
  step("charge now");

  // 4. A local event, added in the card's form: the banner appears.
  await page.locator(`${sel("event-form")} summary`).click();
  await page.locator(`${CARD} #pev-event-name input`).waitFor({ timeout: 10_000 });
  await page.locator(sel("event-form")).screenshot({ path: join(output, "event-form.png") });
  await page.locator(`${CARD} #pev-event-name input`).fill("Evening peak");
  await page.locator(`${CARD} #pev-event-price input`).fill("0.65");
  const eventStart = Date.now();
  await page.locator(sel("add-event")).click();
  await page.locator(sel("event-banner")).waitFor({ timeout: 10_000 });
  result.event_ms = Date.now() - eventStart;
  await page.locator(sel("price")).filter({ hasText: "0.65" }).waitFor({ timeout: 10_000 });
  result.event = { banner: await text("event-banner"), price: await text("price"), status: await text("status") };
  step("event");
  await page.locator(`${sel("event-form")} summary`).click(); // fold the form again

  // 4b. A load-control event of the premise (in force from a minute ago, so it comes first):
  // opting out in the card, the banner says so and offers no second opt-out.
  const minute = 60_000;
  await service("pev_portal", "add_local_event", {
    kind: "load_control",
    name: "Demand limit",
    start: new Date(Date.now() - minute).toISOString(),
    end: new Date(Date.now() + 60 * minute).toISOString(),
    limit_kw: 3.7,
  });
  await page.locator(sel("event-banner")).filter({ hasText: "Demand limit" }).waitFor({ timeout: 10_000 });
  result.load_control = { banner: await text("event-banner") };
  await page.locator(sel("opt-out")).click();
  await page.locator(sel("opted-out")).waitFor({ timeout: 10_000 });
  result.opted_out = {
    chip: await text("opted-out"),
    offered: await page.locator(sel("opt-out")).count(),
    status: await text("status"),
  };
  step("opt out");

  // 5. Unplug (once the meter counted some energy): the session shows in the last sessions,
  // expandable to its intervals.
  const metered = page.locator(sel("energy")).filter({ hasNotText: /\b0[.,]00\s*kWh/ });
  await metered.waitFor({ timeout: 20_000 });
  await service("switch", "turn_off", { entity_id: entities.demo_plug });
  await page.locator(sel("session")).first().waitFor({ timeout: 10_000 });
  await page.locator(`${sel("session")} summary`).first().click();
  await page.locator(sel("intervals")).first().waitFor({ timeout: 10_000 });
  result.history = {
    sessions: await page.locator(sel("session")).count(),
    summary: (await page.locator(`${sel("session")} summary`).first().innerText()).trim(),
    interval_rows: await page.locator(`${sel("intervals")} tbody tr`).count(),
  };
  step("history");

  // 6. The CSV export downloads from the card.
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 15_000 }),
    page.locator(sel("export")).click(),
  ]);
  const csvPath = join(output, "export.csv");
  await download.saveAs(csvPath);
  const csv = await readFile(csvPath, "utf8");
  result.export = { filename: download.suggestedFilename(), header: csv.split("\n")[0], lines: csv.trim().split("\n").length };
  step("export");

  // 7. Plugged in again: charging.
  await service("switch", "turn_on", { entity_id: entities.demo_plug });
  await waitText("state", "Charging", 15_000);
  await metered.waitFor({ timeout: 20_000 });
  // 8. Keyboard (with a car plugged in, so that every control is enabled): every control is
  // reachable with Tab and has a label.
  result.a11y = await page.evaluate(() => {
    const shadow = window.__pevCard().shadowRoot;
    const controls = [...shadow.querySelectorAll("button, select, input, summary, ha-select, ha-selector")];
    const unlabeled = controls
      .filter((c) => {
        if (c.localName === "button" || c.localName === "summary") return !c.textContent.trim() && !c.getAttribute("aria-label");
        if (c.localName.startsWith("ha-")) return !c.label;
        return !(c.id && shadow.querySelector(`label[for="${c.id}"]`));
      })
      .map((c) => c.outerHTML.slice(0, 80));
    const unreachable = controls.filter((c) => c.tabIndex < 0 && !c.localName.startsWith("ha-")).map((c) => c.outerHTML.slice(0, 80));
    return { controls: controls.length, unlabeled, unreachable };
  });
  // Each control reached is named by the card's element that holds the focus (its id, or its
  // text for buttons).
  await page.locator(sel("state")).click();
  const tabbed = new Set();
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press("Tab");
    const name = await page.evaluate(() => {
      const card = window.__pevCard();
      const top = card?.shadowRoot?.activeElement;
      if (!top) return null;
      const holder = top.closest("[id]") ?? top;
      return `${top.localName}:${(top.localName === "button" || top.localName === "summary" ? top.textContent : holder.id || "").trim().replace(/\s+/g, " ").slice(0, 30)}`;
    });
    if (name) tabbed.add(name);
  }
  result.a11y.tab_reached = [...tabbed];
  step("keyboard");

  // 9. Pictures of the product: charging, with the event, desktop and 360 px, light and dark.
  await page.locator(`${sel("session")} summary`).first().click(); // fold the history row
  await page.mouse.click(5, 5);
  await page.setViewportSize({ width: 1280, height: 1400 }); // the whole card below the toolbar
  await page.waitForTimeout(500);
  const card = page.locator(CARD);
  result.light_background = await card.evaluate(
    (el) => getComputedStyle(el.shadowRoot.querySelector("ha-card")).backgroundColor,
  );
  await card.screenshot({ path: join(output, "card-desktop.png") });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.waitForTimeout(800);
  await card.screenshot({ path: join(output, "card-desktop-dark.png") });
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 360, height: 1400 });
  await page.waitForTimeout(800);
  result.narrow = await card.evaluate((el) => {
    const haCard = el.shadowRoot.querySelector("ha-card");
    return { width: Math.round(el.getBoundingClientRect().width), overflow: haCard.scrollWidth - haCard.clientWidth };
  });
  await card.screenshot({ path: join(output, "card-360.png") });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.waitForTimeout(800);
  await card.screenshot({ path: join(output, "card-360-dark.png") });
  result.dark_background = await card.evaluate(
    (el) => getComputedStyle(el.shadowRoot.querySelector("ha-card")).backgroundColor,
  );
  step("screenshots");

  // 10. As a homeowner adds the card: dashboard in edit mode, "Add card", "By card", search, pick
  // "PEV Portal charger"; its editor offers the charger, the sections are on; save. The
  // dashboard then holds a second card for the same charger.
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1280, height: 1000 });
  await page.goto(url + dashboard + "?edit=1", { waitUntil: "domcontentloaded" });
  await page.getByRole("button", { name: "Add card" }).first().click();
  await page.getByRole("tab", { name: "By card" }).click();
  await page.getByPlaceholder(/Search cards/i).first().fill("PEV Portal");
  const pickerEntry = page.locator("hui-card-picker .card").filter({ hasText: "PEV Portal charger" }).first();
  await pickerEntry.waitFor({ timeout: 15_000 });
  await pickerEntry.click();
  const dialogEditor = page.locator("pev-portal-card-editor");
  await dialogEditor.waitFor({ timeout: 15_000 });
  await page.waitForFunction(
    () => {
      const editor = window.__pevDeepAll(document, "pev-portal-card-editor")[0];
      const form = editor?.shadowRoot?.querySelector("ha-form");
      return form?.schema?.[0]?.selector?.select?.options?.length > 0 && window.__pevDeepAll(form, "ha-switch").length >= 3;
    },
    null,
    { timeout: 15_000 },
  );
  await page.screenshot({ path: join(output, "card-editor.png") });
  result.picker = await page.evaluate(() => {
    const editor = window.__pevDeepAll(document, "pev-portal-card-editor")[0];
    const form = editor.shadowRoot.querySelector("ha-form");
    return {
      text: window.__pevDeepText(form),
      switches: window.__pevDeepAll(form, "ha-switch").map((s) => s.checked),
      options: form.schema[0].selector.select.options.map((o) => o.label),
    };
  });
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForFunction(() => window.__pevDeepAll(document, "pev-portal-card").length >= 2, null, { timeout: 15_000 });
  result.picker.saved = await page.evaluate(async () => {
    const hass = document.querySelector("home-assistant").hass;
    const path = location.pathname.split("/")[1];
    const config = await hass.callWS({ type: "lovelace/config", url_path: path });
    const cards = [];
    const walk = (node) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === "object") {
        if (node.type === "custom:pev-portal-card") cards.push(node);
        Object.values(node).forEach(walk);
      }
    };
    walk(config);
    return cards;
  });
  step("card picker");
  // Closing, the card editor steps back in the browser's history: a navigation started before
  // it is gone is aborted (net::ERR_ABORTED).
  await page.locator("hui-dialog-edit-card").waitFor({ state: "hidden", timeout: 15_000 }).catch(() => undefined);
  await page.waitForTimeout(500);

  // 11. In German (the user's language in Home Assistant): every text of the card is German.
  await context.addInitScript(() => window.localStorage.setItem("selectedLanguage", JSON.stringify("de")));
  await page.goto(url + dashboard, { waitUntil: "domcontentloaded" });
  await page.locator(sel("state")).filter({ hasText: "Lädt" }).first().waitFor({ timeout: 30_000 });
  await page.locator(`${sel("event-form")} summary`).first().click(); // its fields too
  await page.waitForTimeout(500);
  result.german = await page.evaluate(() => {
    const shadow = window.__pevCard().shadowRoot;
    // The card's own texts: its text nodes (not inside Home Assistant's elements, whose texts
    // are the frontend's), its titles and the labels it gives those elements.
    const texts = [];
    const walker = document.createTreeWalker(shadow, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const parent = walker.currentNode.parentElement;
      if (parent && !["style", "title"].includes(parent.localName) && walker.currentNode.textContent.trim()) {
        texts.push(walker.currentNode.textContent.trim());
      }
    }
    for (const el of shadow.querySelectorAll("[title]")) texts.push(el.getAttribute("title"));
    for (const el of shadow.querySelectorAll("ha-select, ha-selector")) texts.push(el.label);
    return {
      texts,
      charge_mode: window.__pevDeepText(shadow.querySelector('[data-test="charge-mode"]')),
      language: document.querySelector("home-assistant").hass.locale.language,
    };
  });
  result.english_strings = await englishStrings();
  step("german");
} catch (err) {
  await failed(result, err, session, join(output, "failure.png"), async (page) => {
    result.defined = await page.evaluate(() => customElements.get("pev-portal-card") !== undefined);
    result.modules = await page.evaluate(() =>
      [...document.querySelectorAll("script")].map((s) => s.src || s.textContent.slice(0, 300)),
    );
  });
} finally {
  await finish(result, session, started);
}
