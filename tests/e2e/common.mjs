// What the end-to-end browser scripts (dashboard.mjs, walk.mjs) share: their input from the
// environment, Home Assistant's HTTP API, Debian's Chromium launched headless (playwright-core)
// and logged in as the owner, nothing leaving the machine, the console's errors sorted into the
// integration's (which fail the test) and Home Assistant's own, and the one JSON result printed
// at the end. Input (environment, set by tests/e2e/harness.py):
//   PEV_E2E_URL        Home Assistant's base URL (http://127.0.0.1:PORT)
//   PEV_E2E_TOKENS     JSON: {access_token, refresh_token, expires_in}
//   PEV_E2E_OUTPUT     folder for screenshots
//   PEV_E2E_CHROMIUM   the browser (default /usr/bin/chromium)
import { mkdtemp, rm, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, "../../frontend/package.json"));
const { chromium } = require("playwright-core");

export const url = process.env.PEV_E2E_URL;
export const tokens = JSON.parse(process.env.PEV_E2E_TOKENS);
export const output = process.env.PEV_E2E_OUTPUT;
const executablePath = process.env.PEV_E2E_CHROMIUM || "/usr/bin/chromium";
const EMPTY_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

/** Home Assistant's HTTP API as the owner (auth = false: without the token); its JSON or null. */
export async function api(method, path, body, auth = true) {
  const response = await fetch(url + path, {
    method,
    headers: {
      ...(auth ? { Authorization: `Bearer ${tokens.access_token}` } : {}),
      "Content-Type": "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Chromium in a fresh profile (prefix names its folder), logged in as the owner (the frontend
 * takes its tokens from localStorage), with each init script added; requests to any other host
 * get an empty picture (the card picker's previews of Home Assistant's picture cards link images
 * on demo.home-assistant.io). Returns {context, page, close}.
 */
export async function launch(prefix, options, initScripts = []) {
  const userDataDir = await mkdtemp(join(tmpdir(), prefix));
  await mkdir(output, { recursive: true });
  let context;
  const close = async () => {
    await context?.close().catch(() => undefined);
    await rm(userDataDir, { recursive: true, force: true }).catch(() => undefined);
  };
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
      locale: "en-US",
      timezoneId: "UTC",
      ...options,
    });
    const hassTokens = {
      ...tokens,
      token_type: "Bearer",
      hassUrl: url,
      clientId: `${url}/`,
      expires: Date.now() + tokens.expires_in * 1000,
    };
    await context.addInitScript((value) => window.localStorage.setItem("hassTokens", value), JSON.stringify(hassTokens));
    for (const script of initScripts) await context.addInitScript(script);
    const base = new URL(url);
    await context.route(
      (target) => target.hostname !== base.hostname,
      (route) => route.fulfill({ status: 200, contentType: "image/png", body: Buffer.from(EMPTY_PNG, "base64") }),
    );
    const page = context.pages()[0] ?? (await context.newPage());
    return { context, page, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The page's errors sorted: the integration's (its card, flows, API, messages: "pev portal" in
 * the text or where it came from) into result.console_errors, which fail the test; Home
 * Assistant's own (e.g. 404s for brand icons this offline install has none of) into
 * result.other_console, printed so they are seen. With values, a console error also carries its
 * arguments' values.
 */
export function captureConsole(page, result, { values = false } = {}) {
  result.console_errors ??= [];
  result.other_console ??= [];
  const ours = (text, where = "") => /pev[-_ ]?portal/i.test(`${text} ${where}`);
  const note = (text, where = "") =>
    (ours(text, where) ? result.console_errors : result.other_console).push(`${text}${where ? ` (${where})` : ""}`.slice(0, 500));
  page.on("console", async (msg) => {
    if (msg.type() !== "error") return;
    let detail = msg.text();
    if (values) {
      try {
        const args = await Promise.all(msg.args().map((a) => a.jsonValue().catch(() => null)));
        detail = `${detail} ${JSON.stringify(args)}`;
      } catch {
        // the page may be gone
      }
    }
    note(detail, msg.location()?.url ?? "");
  });
  page.on("pageerror", (err) => note(String(err), err.stack ?? ""));
  page.on("requestfailed", (request) => note(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  page.on("response", (response) => {
    if (response.status() >= 400) note(`HTTP ${response.status()}: ${response.url()}`);
  });
}

/** An error in the script: into result.errors, with a full-page screenshot at shotPath. */
export async function failed(result, err, session, shotPath, more = async () => undefined) {
  result.errors.push(String(err?.stack ?? err).slice(0, 3000));
  try {
    const page = session?.context.pages()[0];
    if (page) {
      await more(page);
      await page.screenshot({ path: shotPath, fullPage: true });
    }
  } catch {
    // no picture
  }
}

/** The browser closed, its profile removed, and the result printed as one JSON line. */
export async function finish(result, session, started) {
  await session?.close();
  result.total_ms = Date.now() - started;
  process.stdout.write(JSON.stringify(result) + "\n");
}
