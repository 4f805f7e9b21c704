// Login with SPID and CIE through the local OpenID provider (oidc_op.mjs),
// at one screen size:
//
// 1. HEAD logs in with SPID (the provider's login and consent pages), sees
//    the area personale and «i tuoi dati», logs out: the access token is
//    revoked and the provider's session ended, back on the service page;
// 2. NONRESIDENT logs in with CIE: the provider's name in the header, and
//    «i tuoi dati» says they are not in the registry;
// 3. hostile answers, each refused with a page: a tampered state, the same
//    answer twice (state used), a used code under a fresh state, the answer
//    opened in another browser, a wrong iss, a wrong nonce and a forged
//    ID token signature (the provider's answer altered by its tamper
//    control), a login that took too long; and a session expired.
//
// The test's server changes the clock of the store when asked: the script
// prints `ASK expire-logins` or `ASK expire-sessions` and waits for a line.
// axe-core runs on every page of ours; screenshots go to SHOTS.
//
//   node oidc.mjs BASE OP WIDTH HEIGHT SHOTS HEAD NONRESIDENT
//
// The last line printed is `RESULT` and a JSON object.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const [base, op, width, height, shots, head, nonresident] = process.argv.slice(2);
const size = `${width}x${height}`;

const answers = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function ask(what) {
  process.stdout.write(`ASK ${what}\n`);
  const { value } = await answers.next();
  if (value !== "ok") throw new Error(`${what}: ${value}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const pages = [];
const consoleErrors = [];
const result = { pages, consoleErrors };
let shot = 0;

async function context() {
  const ctx = await browser.newContext({
    viewport: { width: Number(width), height: Number(height) },
  });
  const page = await ctx.newPage();
  page.on("console", (message) => {
    // Only our pages: the provider's are not under test.
    // The refusals answer 400, 401 or 403, which Chromium reports too;
    // their pages are checked one by one.
    const url = message.location().url || "";
    const refusal = /Failed to load resource: the server responded with a status of 40[013]/;
    if (
      message.type() === "error" &&
      page.url().startsWith(base) &&
      !url.endsWith("/favicon.ico") &&
      !refusal.test(message.text())
    ) {
      consoleErrors.push(`${page.url()}: ${message.text()}`);
    }
  });
  return { ctx, page };
}

// A busy machine's Chromium may refuse a capture once; a second try
// after a moment is enough.
async function screenshot(page, path) {
  try {
    await page.screenshot({ path, fullPage: true });
  } catch {
    await page.waitForTimeout(500);
    await page.screenshot({ path, fullPage: true });
  }
}

async function look(page, name) {
  await page.waitForLoadState("load");
  shot += 1;
  await screenshot(page, `${shots}/oidc-${size}-${String(shot).padStart(2, "0")}-${name}.png`);
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const found = await window.axe.run(document, { resultTypes: ["violations"] });
    return found.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3),
    }));
  });
  const h1 = (await page.locator("h1").first().textContent())?.trim();
  const text = (await page.locator("main").first().textContent())?.replace(/\s+/g, " ").trim();
  const entry = { name, path: new URL(page.url()).pathname, title: await page.title(), h1, text, violations };
  pages.push(entry);
  return entry;
}

// From the login page to the provider's login form, through it and the
// consent page. `hold` keeps the browser from following the answer back:
// the callback address is returned instead.
async function loginAt(page, label, fiscalCode, { hold = false } = {}) {
  let held = null;
  if (hold) {
    // The consent form's answer is taken over: its redirect (to the
    // provider's resume endpoint) is followed here, without the browser,
    // up to the redirect back to us, which is kept and not followed.
    await page.route(`${op}/interaction/*/confirm`, async (route) => {
      const confirmed = await route.fetch({ maxRedirects: 0 });
      let next = new URL(confirmed.headers().location, op).toString();
      for (let i = 0; i < 5 && !next.startsWith(base); i += 1) {
        const hop = await page.context().request.get(next, { maxRedirects: 0 });
        next = new URL(hop.headers().location, next).toString();
      }
      held = next;
      await route.fulfill({ status: 204, body: "" });
    });
  }
  await page.goto(`${base}/accedi`);
  await look(page, "accesso");
  await page.getByRole("link", { name: `Entra con ${label}` }).click();
  await page.waitForURL(`${op}/interaction/**`);
  await page.fill("#cf", fiscalCode);
  await Promise.all([page.waitForLoadState("load"), page.click('button[type="submit"]')]);
  await page.waitForSelector("h1");
  if ((await page.locator("h1").textContent()).includes("Consenso")) {
    if (hold) {
      await page.click('button[type="submit"]');
    } else {
      await Promise.all([page.waitForURL(`${base}/area-personale`), page.click('button[type="submit"]')]);
    }
  }
  if (hold) {
    for (let i = 0; i < 100 && !held; i += 1) await page.waitForTimeout(100);
    await page.unroute(`${op}/interaction/*/confirm`);
    if (!held || !held.startsWith(`${base}/accedi/ritorno`)) {
      throw new Error(`the provider did not answer back: ${held}`);
    }
    return held;
  }
  await page.waitForLoadState("load");
  return page.url();
}

async function events() {
  const response = await fetch(`${op}/_events`);
  return response.json();
}

async function tamper(mode) {
  await fetch(`${op}/_tamper`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ mode }),
  });
}

function withParam(url, name, value) {
  const changed = new URL(url);
  changed.searchParams.set(name, value);
  return changed.toString();
}

// 1. HEAD with SPID, then logout.
{
  const { ctx, page } = await context();
  await page.goto(`${base}/`);
  await look(page, "servizio");
  await loginAt(page, "SPID", head);
  const area = await look(page, "area-personale");
  result.headArea = { path: area.path, h1: area.h1 };
  result.headHeader = (await page.locator("header").first().textContent()).replace(/\s+/g, " ").trim();
  await page.goto(`${base}/richiesta`);
  await look(page, "privacy");
  await page.locator('label[for="letto"]').click();
  await Promise.all([page.waitForURL(`${base}/richiesta/dati`), page.getByRole("button", { name: "Avanti" }).click()]);
  const data = await look(page, "dati");
  result.headData = { h1: data.h1, showsCode: data.text.includes(head) };
  const before = (await events()).length;
  await page.getByRole("button", { name: "Esci" }).click();
  await page.waitForURL(`${op}/session/end**`);
  await Promise.all([page.waitForURL((url) => url.origin === new URL(base).origin && url.pathname === "/"), page.click("button[autofocus]")]);
  const after = await look(page, "dopo-uscita");
  result.afterLogout = {
    path: after.path,
    loggedOut: (await page.getByRole("link", { name: /Accedi/ }).count()) > 0,
    events: (await events()).slice(before),
  };
  // The session is gone: the area personale asks for login again.
  await page.goto(`${base}/area-personale`);
  result.afterLogout.areaPath = new URL(page.url()).pathname;
  await ctx.close();
}

// 2. NONRESIDENT with CIE.
{
  const { ctx, page } = await context();
  await loginAt(page, "CIE", nonresident);
  const area = await look(page, "area-personale-non-residente");
  result.nonresidentHeader = (await page.locator("header").first().textContent()).replace(/\s+/g, " ").trim();
  result.nonresidentArea = { path: area.path, h1: area.h1 };
  await page.goto(`${base}/richiesta`);
  await page.locator('label[for="letto"]').click();
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Avanti" }).click()]);
  const data = await look(page, "non-residente");
  result.nonresidentData = { h1: data.h1 };
  await ctx.close();
}

// 3. Hostile answers.
const refusals = {};
async function refused(page, name, url) {
  const response = await page.goto(url);
  const seen = await look(page, name);
  refusals[name] = { status: response.status(), h1: seen.h1, text: seen.text, path: seen.path };
  return refusals[name];
}
{
  const { ctx, page } = await context();
  const answer = await loginAt(page, "SPID", head, { hold: true });
  const state = new URL(answer).searchParams.get("state");
  result.stateLength = state.length;
  // A tampered state finds no login.
  await refused(page, "state-alterato", withParam(answer, "state", `${state.slice(0, -2)}xx`));
  // The same answer in another browser: not its login.
  {
    const other = await context();
    await refused(other.page, "altro-browser", answer);
    await other.ctx.close();
  }
  // The real answer, in its browser, still logs in...
  await page.goto(answer);
  result.genuineAfterTamper = new URL(page.url()).pathname;
  // ... once: the same answer again is refused.
  await page.context().clearCookies();
  await refused(page, "risposta-ripetuta", answer);
  // The used code under a fresh login's state: the provider refuses it.
  const fresh = await loginAt(page, "SPID", head, { hold: true });
  const replay = withParam(fresh, "code", new URL(answer).searchParams.get("code"));
  await refused(page, "codice-riusato", replay);
  await ctx.close();
}
{
  const { ctx, page } = await context();
  const answer = await loginAt(page, "SPID", head, { hold: true });
  await refused(page, "iss-alterato", withParam(answer, "iss", "http://127.0.0.1:9/altro"));
  await ctx.close();
}
for (const mode of ["nonce", "signature"]) {
  const { ctx, page } = await context();
  const answer = await loginAt(page, "SPID", head, { hold: true });
  await tamper(mode);
  await refused(page, `id-token-${mode}`, answer);
  await ctx.close();
}
{
  const { ctx, page } = await context();
  const answer = await loginAt(page, "SPID", head, { hold: true });
  await ask("expire-logins");
  await refused(page, "accesso-scaduto", answer);
  await ctx.close();
}
{
  const { ctx, page } = await context();
  await loginAt(page, "SPID", head);
  await ask("expire-sessions");
  await refused(page, "sessione-scaduta", `${base}/area-personale`);
  await ctx.close();
}
// Staff: the same provider from the office's login. The head is staff of
// the comune (the test made them so); the non-resident is not.
for (const [who, fiscalCode] of [["staff", head], ["notStaff", nonresident]]) {
  const { ctx, page } = await context();
  await page.goto(`${base}/accedi/ufficio`);
  await look(page, `ufficio-accesso-${who}`);
  await page.getByRole("button", { name: "Entra con SPID" }).click();
  await page.waitForURL(`${op}/interaction/**`);
  await page.fill("#cf", fiscalCode);
  await Promise.all([page.waitForLoadState("load"), page.click('button[type="submit"]')]);
  await page.waitForSelector("h1");
  if ((await page.locator("h1").textContent()).includes("Consenso")) {
    await Promise.all([
      // Back at ours: the office (a 303 from the callback), or the
      // refusal answered at the callback's address itself.
      page.waitForURL((url) => url.toString().startsWith(base)),
      page.click('button[type="submit"]'),
    ]);
  }
  await page.waitForLoadState("load");
  await look(page, `ufficio-dopo-${who}`);
  result[who] = {
    path: new URL(page.url()).pathname,
    h1: (await page.locator("h1").first().textContent()).trim(),
  };
  await ctx.close();
}
result.refusals = refusals;
result.events = await events();

await browser.close();
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
process.exit(0);
