// The office as its staff use it, at one screen size:
//
// 1. an operatore anagrafe logs in with password and TOTP code, searches
//    the holder by surname, issues a residenza in bollo with a paper marca
//    da bollo (its 14 digits and today's date) and downloads the PDF to
//    print; then tries the same marca for a second certificate, which is
//    refused; opens the scanning page;
// 2. a responsabile logs in, revokes the certificate with a reason, opens
//    the public verification page from the certificate's link, and reads
//    the audit trail (and its CSV);
// 3. an amministratore logs in and changes the diritti on a certificate in
//    bollo; the portal's service page then states the new amount.
//
// axe-core runs on every page seen; screenshots go to SHOTS.
//
//   node office.mjs BASE WIDTH HEIGHT SHOTS PASSWORD SURNAME HOLDER MARCA DIRITTI
//                   OPERATOR:CODE RESPONSABILE:CODE ADMIN:CODE
//
// Prints one JSON object: the pages (name, path, title, violations), the
// certificate's page path and number, the downloaded PDF's path, the
// refusal's status and message, the status after revocation, the public
// page's headline and status line, the CSV's first line, the home page's
// text about diritti, console errors.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const [base, width, height, shots, password, surname, holder, marca, diritti, ...logins] =
  process.argv.slice(2);
const [operator, responsabile, admin] = logins.map((pair) => pair.split(":"));
const size = `${width}x${height}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const pages = [];
const consoleErrors = [];
let shot = 0;

async function look(page, name) {
  await page.waitForLoadState("load");
  shot += 1;
  await page.screenshot({
    path: `${shots}/office-${size}-${String(shot).padStart(2, "0")}-${name}.png`,
    fullPage: true,
  });
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3),
    }));
  });
  pages.push({
    name,
    path: new URL(page.url()).pathname,
    title: await page.title(),
    violations,
    // Nothing wider than the screen: the page never scrolls sideways;
    // `widest` names what sticks out, outside boxes that scroll.
    scrollWidth: await page.evaluate(() => document.documentElement.scrollWidth),
    widest: await page.evaluate(() =>
      [...document.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
        .filter((e) => {
          for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
            if (["auto", "hidden", "scroll", "clip"].includes(getComputedStyle(a).overflowX)) return false;
          }
          return true;
        })
        .slice(0, 3)
        .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`),
    ),
  });
}

async function tick(page, input) {
  const id = await page.locator(input).getAttribute("id");
  await page.click(`label[for="${id}"]`);
  if (!(await page.locator(input).isChecked())) throw new Error(`${input} not ticked`);
}

async function newPage() {
  const context = await browser.newContext({
    viewport: { width: Number(width), height: Number(height) },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.on("console", (message) => {
    const url = message.location().url || "";
    // A page answered 403 or 409 on purpose (checked below) is reported
    // as a resource that failed to load: not an error of the page.
    const own = url === page.url() && message.text().startsWith("Failed to load resource");
    if (message.type() === "error" && !url.endsWith("/favicon.ico") && !own) {
      consoleErrors.push(`${page.url()}: ${message.text()}`);
    }
  });
  return page;
}

async function login(page, [fiscalCode, code], name) {
  await page.goto(base + "/accedi/ufficio");
  if (name) await look(page, name);
  await page.fill("#codice_fiscale", fiscalCode);
  await page.fill("#password", password);
  await page.fill("#codice", code);
  await Promise.all([
    page.waitForURL((url) => url.pathname === "/sportello"),
    page.click("form[action='/accedi/ufficio'] button[type=submit]"),
  ]);
}

// The issuance form for the holder, reached by the search.
async function issueForm(page, name) {
  await page.goto(base + "/sportello/rilascio");
  await page.fill("#q", surname);
  await Promise.all([page.waitForNavigation(), page.click("form[action='/sportello/rilascio'] button")]);
  if (name) await look(page, name);
  const choose = page.locator(`form[action='/sportello/rilascio/persona']:has(input[value="${holder}"]) button`);
  await Promise.all([page.waitForNavigation(), choose.click()]);
}

async function fillMarca(page) {
  await tick(page, `input[name=persona][value="${holder}"]`);
  await tick(page, "#tipo-residenza");
  await tick(page, "#uso-bollo");
  await tick(page, "#pagamento-marca");
  await page.fill("#marca_numero", marca);
  const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Europe/Rome" });
  await page.fill("#marca_data", today);
}

try {
  // 1. The operatore anagrafe.
  const op = await newPage();
  await login(op, operator, "accesso");
  await look(op, "sportello");
  await issueForm(op, "rilascio-ricerca");
  await look(op, "rilascio-modulo");
  await fillMarca(op);
  await Promise.all([
    op.waitForURL((url) => url.pathname.startsWith("/sportello/certificati/")),
    op.click("form[action='/sportello/rilascio/emetti'] button[type=submit]"),
  ]);
  await look(op, "rilasciato");
  const certificatePath = new URL(op.url()).pathname;
  const issuedBanner = await op.locator("#rilasciato").textContent();
  const number = (await op.locator("h1").textContent()).replace("Certificato n. ", "").trim();
  const [download] = await Promise.all([op.waitForEvent("download"), op.click("#scarica")]);
  const pdfPath = `${shots}/office-${size}-certificato.pdf`;
  await download.saveAs(pdfPath);

  await issueForm(op);
  await fillMarca(op);
  const [refusal] = await Promise.all([
    op.waitForResponse((r) => r.url().endsWith("/sportello/rilascio/emetti")),
    op.click("form[action='/sportello/rilascio/emetti'] button[type=submit]"),
  ]);
  await look(op, "marca-rifiutata");
  const refusalText = await op.locator("#errori").textContent();

  await op.goto(base + "/sportello/verifica");
  await look(op, "verifica");
  const forbidden = await op.goto(base + "/sportello/amministrazione");
  const forbiddenStatus = forbidden.status();
  await look(op, "non-consentito");

  // 2. The responsabile.
  const resp = await newPage();
  await login(resp, responsabile, null);
  await resp.goto(base + certificatePath);
  await look(resp, "certificato");
  await resp.fill("#motivo", "dati anagrafici da rettificare");
  await Promise.all([
    resp.waitForNavigation(),
    resp.click("form[action$='/revoca'] button[type=submit]"),
  ]);
  await look(resp, "revocato");
  const statusAfter = (await resp.locator("#stato").textContent()).trim();
  const verification = new URL(await resp.locator("#verifica").getAttribute("href"));
  await resp.goto(base + "/v" + verification.hash);
  await resp.waitForSelector("#esito-titolo", { timeout: 15000 });
  await look(resp, "verifica-pubblica");
  const publicHeadline = (await resp.locator("#esito-titolo").textContent()).trim();
  const publicText = (await resp.locator("#esito").textContent()).trim();
  await resp.goto(base + "/sportello/registro?certificato=" + encodeURIComponent(number));
  await look(resp, "registro");
  const auditRows = await resp.locator("tbody tr").allTextContents();
  const csvHref = await resp.locator("#esporta").getAttribute("href");
  const csv = await resp.evaluate(async (href) => (await fetch(href)).text(), csvHref);
  await resp.goto(base + "/sportello/certificati");
  await look(resp, "certificati");

  // 3. The amministratore.
  const adm = await newPage();
  await login(adm, admin, null);
  await adm.goto(base + "/sportello/amministrazione");
  await look(adm, "amministrazione");
  await adm.fill("#diritti_bollo", diritti);
  await Promise.all([
    adm.waitForNavigation(),
    adm.click("form[action='/sportello/amministrazione/tariffe'] button[type=submit]"),
  ]);
  await look(adm, "tariffe-salvate");
  const saved = await adm.locator("#avviso").textContent();
  await adm.goto(base + "/");
  const homeText = await adm.locator("main").textContent();
  await adm.goto(base + "/accedi/ufficio");

  console.log(
    JSON.stringify({
      pages,
      certificatePath,
      number,
      issuedBanner,
      pdfPath,
      refusal: { status: refusal.status(), text: refusalText },
      forbiddenStatus,
      statusAfter,
      publicHeadline,
      publicText,
      auditRows,
      csvFirst: csv.split("\r\n")[0],
      csvLines: csv.split("\r\n").filter((l) => l).length,
      saved,
      homeText,
      consoleErrors,
    }),
  );
} finally {
  await browser.close();
}
