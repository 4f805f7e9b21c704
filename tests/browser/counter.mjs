// The counter page as a clerk uses it: a USB scanner in keyboard mode types
// each seal's text and Enter into whatever has the focus, scan after scan,
// with no click in between. Then axe-core on the page as it stands.
//
//   node counter.mjs BASE_URL COOKIE TEXT...
//
// COOKIE is the staff session's `name=value`: the page is behind the staff
// login.
//
// Prints one JSON object: for each scan the verdict shown (headline, class,
// computed border colour) and which element had the focus afterwards; the
// session's list of scans; axe-core's violations; console errors.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const [base, cookie, ...texts] = process.argv.slice(2);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const [name, value] = cookie.split("=");
  await context.addCookies([{ name, value, url: base }]);
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("console", (message) => {
    const url = message.location().url || "";
    if (message.type() === "error" && !url.endsWith("/favicon.ico")) {
      consoleErrors.push(message.text());
    }
  });
  await page.goto(base + "/sportello/verifica");
  const scans = [];
  for (const text of texts) {
    const before = await page.locator("#storico-elenco li").count();
    await page.keyboard.type(text);
    await page.keyboard.press("Enter");
    await page.waitForFunction(
      (count) => document.querySelectorAll("#storico-elenco li").length > count,
      before,
      { timeout: 15000 },
    );
    const verdict = page.locator("#esito section");
    scans.push({
      headline: await page.locator("#esito-titolo").textContent(),
      class: await verdict.getAttribute("class"),
      colour: await verdict.evaluate((e) => getComputedStyle(e).borderLeftColor),
      focused: await page.evaluate(() => document.activeElement && document.activeElement.id),
      field: await page.locator("#sigillo").inputValue(),
    });
  }
  const history = await page.locator("#storico-elenco li").allTextContents();
  const historyColours = await page.locator("#storico-elenco li").evaluateAll(
    (items) => items.map((item) => getComputedStyle(item).borderLeftColor),
  );
  // Through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document);
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  console.log(JSON.stringify({ scans, history, historyColours, violations, consoleErrors }));
} finally {
  await browser.close();
}
