// Login with SPID through a provider of the local federation
// (tests/federation/federation.py, spid-cie-oidc's provider), at one screen
// size: the login page, the provider's login and consent pages, the area
// personale, logout back through the provider's end-session endpoint.
// axe-core runs on every page of ours; screenshots go to SHOTS.
//
//   node oidc_federation.mjs BASE WIDTH HEIGHT SHOTS FISCAL_CODE PASSWORD
//
// Prints one JSON object.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const [base, width, height, shots, fiscalCode, password] = process.argv.slice(2);
const size = `${width}x${height}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const ctx = await browser.newContext({ viewport: { width: Number(width), height: Number(height) } });
const page = await ctx.newPage();
const pages = [];
const consoleErrors = [];
page.on("console", (message) => {
  const url = message.location().url || "";
  if (message.type() === "error" && page.url().startsWith(base) && !url.endsWith("/favicon.ico")) {
    consoleErrors.push(`${page.url()}: ${message.text()}`);
  }
});
let shot = 0;
async function look(name) {
  await page.waitForLoadState("load");
  shot += 1;
  const path = `${shots}/federazione-${size}-${String(shot).padStart(2, "0")}-${name}.png`;
  // A busy machine's Chromium may refuse a capture once.
  await page.screenshot({ path, fullPage: true }).catch(async () => {
    await page.waitForTimeout(500);
    await page.screenshot({ path, fullPage: true });
  });
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const found = await window.axe.run(document, { resultTypes: ["violations"] });
    return found.violations.map((v) => ({ id: v.id, impact: v.impact }));
  });
  pages.push({ name, path: new URL(page.url()).pathname, violations });
}

await page.goto(`${base}/accedi`);
await look("accesso");
await page.getByRole("link", { name: "Entra con SPID", exact: true }).click();
await page.waitForSelector("#id_username");
const providerLogin = new URL(page.url()).origin;
await page.fill("#id_username", fiscalCode);
await page.fill("#id_password", password);
await Promise.all([page.waitForLoadState("load"), page.click("button#submit")]);
await page.waitForSelector("button#agree");
await Promise.all([page.waitForURL(`${base}/area-personale`), page.click("button#agree")]);
await look("area-personale");
const area = {
  path: new URL(page.url()).pathname,
  header: (await page.locator("header").first().textContent()).replace(/\s+/g, " ").trim(),
};
await Promise.all([page.waitForURL((url) => url.origin === new URL(base).origin && url.pathname === "/"), page.getByRole("button", { name: "Esci" }).click()]);
await look("dopo-uscita");
const afterLogout = {
  path: new URL(page.url()).pathname,
  loggedOut: (await page.getByRole("link", { name: /Accedi/ }).count()) > 0,
};
await browser.close();
process.stdout.write(
  JSON.stringify({ pages, consoleErrors, providerLogin, area, afterLogout }) + "\n",
);
