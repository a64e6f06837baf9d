// End-to-end check of the PEV Portal card in a real Home Assistant, in headless Chromium.
//
// Run by tests/e2e/test_dashboard.py, which starts Home Assistant, onboards it, sets PEV Portal
// up on the demo charger and creates the dashboard. Input (environment):
//   PEV_E2E_URL        Home Assistant's base URL (http://127.0.0.1:PORT)
//   PEV_E2E_TOKENS     JSON: {access_token, refresh_token, expires_in}
//   PEV_E2E_DASHBOARD  the dashboard's path (/pev-portal/charging)
//   PEV_E2E_ENTITIES   JSON: the charger's entity IDs by translation key
//   PEV_E2E_OUTPUT     folder for screenshots
//   PEV_E2E_CHROMIUM   the browser (default /usr/bin/chromium)
// Output: one JSON object on stdout with what was seen; the pytest test asserts it.
import { mkdtemp, rm, mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, "../../frontend/package.json"));
const { chromium } = require("playwright-core");

const url = process.env.PEV_E2E_URL;
const tokens = JSON.parse(process.env.PEV_E2E_TOKENS);
const dashboard = process.env.PEV_E2E_DASHBOARD;
const entities = JSON.parse(process.env.PEV_E2E_ENTITIES);
const output = process.env.PEV_E2E_OUTPUT;
const executablePath = process.env.PEV_E2E_CHROMIUM || "/usr/bin/chromium";

const CARD = "pev-portal-card";
const sel = (test) => `${CARD} [data-test="${test}"]`;
const result = { steps: [], errors: [], console_errors: [] };
const started = Date.now();
const step = (name, data = {}) => {
  result.steps.push({ name, at_ms: Date.now() - started, ...data });
};

async function api(method, path, body) {
  const response = await fetch(url + path, {
    method,
    headers: { Authorization: `Bearer ${tokens.access_token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

const service = (domain, name, data) => api("POST", `/api/services/${domain}/${name}`, data);

const userDataDir = await mkdtemp(join(tmpdir(), "pev-e2e-chromium-"));
await mkdir(output, { recursive: true });
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 1000 },
    acceptDownloads: true,
    locale: "en-US",
    timezoneId: "UTC",
  });
  // Log in as the owner: the frontend takes its tokens from localStorage.
  const hassTokens = {
    ...tokens,
    token_type: "Bearer",
    hassUrl: url,
    clientId: `${url}/`,
    expires: Date.now() + tokens.expires_in * 1000,
  };
  await context.addInitScript((value) => {
    window.localStorage.setItem("hassTokens", value);
  }, JSON.stringify(hassTokens));
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (msg) => {
    if (msg.type() === "error") result.console_errors.push(msg.text().slice(0, 500));
  });
  page.on("pageerror", (err) => result.console_errors.push(String(err).slice(0, 500)));
  page.on("requestfailed", (request) =>
    result.console_errors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`),
  );
  page.on("response", (response) => {
    if (response.status() >= 400) result.console_errors.push(`HTTP ${response.status()}: ${response.url()}`);
  });

  const text = async (test) => (await page.locator(sel(test)).first().innerText()).trim();
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
  };
  step("idle");

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

  // 3. Pause with the card, then "Charge now": the session state follows.
  await page.locator(sel("toggle-charging")).click();
  await waitText("state", "Paused", 15_000);
  result.paused = { state: await text("state"), status: await text("status"), button: await text("toggle-charging") };
  step("paused");
  const chargeNowStart = Date.now();
  await page.locator(sel("charge-now")).click();
  await waitText("state", "Charging", 15_000);
  result.charge_now_ms = Date.now() - chargeNowStart;
  result.charge_now = { state: await text("state"), status: await text("status") };
  step("charge now");

  // 4. A local event, added in the card's form: the banner appears.
  await page.locator(`${sel("event-form")} summary`).click();
  await page.locator(`${CARD} #pev-event-name`).fill("Evening peak");
  await page.locator(`${CARD} #pev-event-price`).fill("0.65");
  const eventStart = Date.now();
  await page.locator(sel("add-event")).click();
  await page.locator(sel("event-banner")).waitFor({ timeout: 10_000 });
  result.event_ms = Date.now() - eventStart;
  result.event = { banner: await text("event-banner"), price: await text("price"), status: await text("status") };
  step("event");
  await page.locator(`${sel("event-form")} summary`).click(); // fold the form again

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

  // 7. Keyboard: every control is reachable with Tab and has a label.
  result.a11y = await page.evaluate((card) => {
    const root = document.querySelector("home-assistant");
    const find = (node) => {
      if (!node) return null;
      if (node.localName === card) return node;
      for (const child of [...(node.shadowRoot?.children ?? []), ...node.children]) {
        const found = find(child);
        if (found) return found;
      }
      return null;
    };
    const element = find(root);
    const shadow = element.shadowRoot;
    const controls = [...shadow.querySelectorAll("button, select, input, summary")];
    const unlabeled = controls
      .filter((c) => {
        if (c.localName === "button" || c.localName === "summary") return !c.textContent.trim() && !c.getAttribute("aria-label");
        return !(c.id && shadow.querySelector(`label[for="${c.id}"]`));
      })
      .map((c) => c.outerHTML.slice(0, 80));
    const unreachable = controls.filter((c) => c.tabIndex < 0).map((c) => c.outerHTML.slice(0, 80));
    return { controls: controls.length, unlabeled, unreachable };
  }, CARD);
  const tabbed = new Set();
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press("Tab");
    const name = await page.evaluate(() => {
      let el = document.activeElement;
      const path = [];
      while (el && el.shadowRoot && el.shadowRoot.activeElement) {
        path.push(el.localName);
        el = el.shadowRoot.activeElement;
      }
      path.push(el ? el.localName : "");
      return path.includes("pev-portal-card") ? `${el.localName}:${(el.textContent || el.id || "").trim().slice(0, 30)}` : null;
    });
    if (name) tabbed.add(name);
  }
  result.a11y.tab_reached = [...tabbed];
  step("keyboard");

  // 8. Pictures of the product: plugged in and charging, with the event, desktop and 360 px.
  await service("switch", "turn_on", { entity_id: entities.demo_plug });
  await waitText("state", "Charging", 15_000);
  await metered.waitFor({ timeout: 20_000 });
  await page.locator(`${sel("session")} summary`).first().click(); // fold the history row
  await page.mouse.click(5, 5);
  await page.waitForTimeout(500);
  const card = page.locator(CARD);
  result.light_background = await card.evaluate(
    (el) => getComputedStyle(el.shadowRoot.querySelector("ha-card")).backgroundColor,
  );
  await card.screenshot({ path: join(output, "card-desktop.png") });
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
} catch (err) {
  result.errors.push(String(err?.stack ?? err).slice(0, 3000));
  try {
    const page = context?.pages()[0];
    if (page) {
      result.defined = await page.evaluate(() => customElements.get("pev-portal-card") !== undefined);
      result.modules = await page.evaluate(() =>
        [...document.querySelectorAll("script")].map((s) => s.src || s.textContent.slice(0, 300)),
      );
    }
    if (page) await page.screenshot({ path: join(output, "failure.png"), fullPage: true });
  } catch {
    // no picture
  }
} finally {
  await context?.close().catch(() => undefined);
  await rm(userDataDir, { recursive: true, force: true }).catch(() => undefined);
  result.total_ms = Date.now() - started;
  process.stdout.write(JSON.stringify(result) + "\n");
}
