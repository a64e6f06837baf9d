// Power feed (V2H/V2G) on the card in a real Home Assistant, in headless Chromium: the plan
// chart of a bidirectional demo charger whose car feeds the home at a price peak.
//
// Run by tests/e2e/test_feed.py, which sets the premise up in the end-to-end tests' one Home
// Assistant (harness.py): the demo charger bidirectional, the home's consumption sensor, the
// car plugged in, charging cheapest by its departure with power feed on, a local price peak
// ahead. Input (environment):
//   PEV_E2E_URL, PEV_E2E_TOKENS, PEV_E2E_OUTPUT, PEV_E2E_CHROMIUM: see common.mjs
//   PEV_E2E_DASHBOARD  the dashboard's path (/pev-portal/charging)
// Output: one JSON object on stdout with what was seen; the pytest test asserts it.
import { join } from "node:path";

import { captureConsole, failed, finish, launch, output, url } from "./common.mjs";

const dashboard = process.env.PEV_E2E_DASHBOARD;
const CARD = "pev-portal-card";
const sel = (test) => `${CARD} [data-test="${test}"]`;
const result = { errors: [], console_errors: [], other_console: [] };
const started = Date.now();

let session;
try {
  session = await launch("pev-feed-chromium-", { viewport: { width: 1280, height: 1400 } });
  const { page } = session;
  captureConsole(page, result, { values: true });
  await page.goto(url + dashboard, { waitUntil: "domcontentloaded" });
  await page.locator(sel("feed-bar")).first().waitFor({ state: "attached", timeout: 60_000 });
  await page.locator(sel("plan-feed")).waitFor({ timeout: 10_000 });
  result.feed_shown_ms = Date.now() - started;
  // The chart as drawn: the zero line, the bars of power fed back (marked data-test="feed-bar")
  // and the charging bars, in the SVG's coordinates (y grows downwards).
  result.chart = await page.locator(CARD).evaluate((card) => {
    const chart = card.shadowRoot.querySelector('[data-test="chart"]');
    const num = (el, name) => Number(el.getAttribute(name));
    const zero = chart.querySelector("line.zero");
    return {
      zero_y: zero ? num(zero, "y1") : null,
      feed: [...chart.querySelectorAll('[data-test="feed-bar"]')].map((r) => ({
        y: num(r, "y"),
        height: num(r, "height"),
        title: r.textContent.replace(/\s+/g, " ").trim(),
      })),
      charge: [...chart.querySelectorAll("rect.bar")].map((r) => ({ y: num(r, "y"), height: num(r, "height") })),
    };
  });
  result.legend = (await page.locator(sel("legend-feed")).innerText()).trim();
  result.plan_feed = (await page.locator(sel("plan-feed")).innerText()).trim();
  await page.locator(CARD).scrollIntoViewIfNeeded();
  await page.locator(CARD).screenshot({ path: join(output, "card-feed.png") });
  await page.waitForTimeout(1000); // a late console error counts too
} catch (err) {
  await failed(result, err, session, join(output, "feed-failure.png"));
} finally {
  await finish(result, session, started);
}
