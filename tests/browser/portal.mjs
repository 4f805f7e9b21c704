// The citizen portal as a citizen uses it, at one screen size:
//
// 1. from the service page, the demo login as HEAD; a residenza in bollo for
//    themselves, with the mouse; the pay button pressed, the page reloaded
//    and the button pressed again (one notice, never a second), the payment
//    made in the emulator's checkout; back to the request, the PDF saved;
// 2. a stato di famiglia for MEMBER with an exemption, with the keyboard
//    only (Tab to each control, Space or Enter on it);
// 3. logged out, the demo login as OTHER (another family): the first
//    request's page and PDF asked for by their addresses.
//
// axe-core runs on every page seen; screenshots go to SHOTS.
//
//   node portal.mjs BASE WIDTH HEIGHT SHOTS HEAD MEMBER OTHER
//
// Prints one JSON object: the pages (path, title, violations), the first
// request's id and states, the notices the pay button led to, the second
// request's state, the statuses OTHER got, console errors.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const [base, width, height, shots, head, member, other] = process.argv.slice(2);
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
    path: `${shots}/portal-${size}-${String(shot).padStart(2, "0")}-${name}.png`,
    fullPage: true,
  });
  // Through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      resultTypes: ["violations"],
    });
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
    h1: (await page.locator("h1").first().textContent())?.trim(),
    violations,
  });
}

// Tab until `selector` has the focus (at most 80 presses), then press `key`.
async function tabTo(page, selector, key) {
  for (let i = 0; i < 80; i += 1) {
    await page.keyboard.press("Tab");
    const there = await page.evaluate(
      (s) => document.activeElement && document.activeElement.matches(s),
      selector,
    );
    if (there) {
      if (key) await page.keyboard.press(key);
      return;
    }
  }
  throw new Error(`${selector} is not reachable with Tab`);
}

// Bootstrap Italia draws its own checkboxes and radios over the label, as
// people click them: click the label of `input`.
async function tick(page, input) {
  const id = await page.locator(input).getAttribute("id");
  await page.click(`label[for="${id}"]`);
  if (!(await page.locator(input).isChecked())) throw new Error(`${input} not ticked`);
}

async function demoLogin(page, fiscalCode) {
  await page.goto(base + "/accedi");
  await tick(page, `input[name=persona][value="${fiscalCode}"]`);
  await Promise.all([page.waitForNavigation(), page.click("form[action='/accedi/demo'] button")]);
}

try {
  const context = await browser.newContext({
    viewport: { width: Number(width), height: Number(height) },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.on("console", (message) => {
    const url = message.location().url || "";
    // The pages answered 4xx on purpose (the choice sent empty, another
    // family's request) log their status; the test checks the statuses.
    const expectedStatus = /Failed to load resource: the server responded with a status of 4(04|22)/;
    if (message.type() === "error" && !url.endsWith("/favicon.ico") && !expectedStatus.test(message.text())) {
      consoleErrors.push(`${page.url()}: ${message.text()}`);
    }
  });

  // 1. The service page, the login, a residenza in bollo, with the mouse.
  await page.goto(base + "/");
  await look(page, "servizio");
  await Promise.all([page.waitForNavigation(), page.click("text=Accedi e richiedi il certificato")]);
  await look(page, "accesso");
  await tick(page, `input[name=persona][value="${head}"]`);
  await Promise.all([page.waitForNavigation(), page.click("form[action='/accedi/demo'] button")]);
  await look(page, "area-personale-vuota");
  await Promise.all([page.waitForNavigation(), page.click("main >> text=Richiedi un certificato")]);
  await look(page, "informativa");
  // Without the box ticked the form is refused by the browser; tick it.
  await tick(page, "#letto");
  await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
  await look(page, "dati");
  await Promise.all([page.waitForNavigation(), page.click("main >> text=Avanti")]);
  await look(page, "scelta");
  // Sent with nothing chosen: the same page, with what is missing.
  await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
  await look(page, "scelta-errori");
  const missing = await page.locator(".text-danger").allTextContents();
  await tick(page, "#tipo-residenza");
  await tick(page, `input[name=persona][value="${head}"]`);
  await tick(page, "#uso-bollo");
  await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
  await look(page, "riepilogo");
  const summary = await page.locator("dl.dati").textContent();
  await Promise.all([page.waitForNavigation(), page.click("text=Invia la richiesta")]);
  await look(page, "richiesta-da-pagare");
  const requestPath = new URL(page.url()).pathname;
  const firstState = (await page.locator("#stato").textContent()).trim();
  // The printed notice, for paying at a PSP: the same notice.
  const noticeHref = await page.locator("#avviso").getAttribute("href");
  const noticeAnswer = await context.request.get(base + noticeHref);
  const notice = {
    href: noticeHref,
    status: noticeAnswer.status(),
    type: noticeAnswer.headers()["content-type"],
  };

  // The pay button, a reload, the button again: the same notice each time.
  const notices = [];
  await Promise.all([page.waitForNavigation(), page.click("#paga")]);
  notices.push(new URL(page.url()).pathname);
  await look(page, "checkout");
  await page.reload();
  notices.push(new URL(page.url()).pathname);
  await page.goBack();
  await Promise.all([page.waitForNavigation(), page.click("#paga")]);
  notices.push(new URL(page.url()).pathname);
  await Promise.all([page.waitForNavigation(), page.click("button:has-text('Paga')")]);
  await look(page, "ritorno-pagamento");
  const returned = (await page.locator("h1").textContent()).trim();
  await Promise.all([page.waitForNavigation(), page.click("text=Vai alla richiesta")]);
  await look(page, "richiesta-rilasciata");
  const issuedState = (await page.locator("#stato").textContent()).trim();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.click("#scarica"),
  ]);
  await download.saveAs(`${shots}/portal-${size}-residenza.pdf`);
  const pdfPath = `${shots}/portal-${size}-residenza.pdf`;

  // 2. A stato di famiglia for a family member, exempt, with the keyboard only.
  await page.goto(base + "/area-personale");
  await look(page, "area-personale");
  await tabTo(page, "main a[href='/richiesta']", "Enter");
  await page.waitForURL("**/richiesta");
  // Already ticked in this session: Space would untick it.
  await tabTo(page, "#letto", null);
  if (!(await page.locator("#letto").isChecked())) await page.keyboard.press("Space");
  await tabTo(page, "main button[type=submit]", "Enter");
  await page.waitForURL("**/richiesta/dati");
  await tabTo(page, "main a[href='/richiesta/certificato']", "Enter");
  await page.waitForURL("**/richiesta/certificato");
  // A radio group is one Tab stop: Tab to the group, arrows to the option.
  await tabTo(page, "input[name=tipo]", null);
  for (let i = 0; i < 30; i += 1) {
    if (await page.evaluate(() => document.activeElement.id === "tipo-stato_famiglia")) break;
    await page.keyboard.press("ArrowDown");
  }
  await page.keyboard.press("Space");
  await tabTo(page, "input[name=persona]", null);
  for (let i = 0; i < 30; i += 1) {
    const value = await page.evaluate(() => document.activeElement.value);
    if (value === member) break;
    await page.keyboard.press("ArrowDown");
  }
  await page.keyboard.press("Space");
  await tabTo(page, "input[name=uso]", null);
  for (let i = 0; i < 3; i += 1) {
    if (await page.evaluate(() => document.activeElement.id === "uso-esente")) break;
    await page.keyboard.press("ArrowDown");
  }
  await page.keyboard.press("Space");
  // Exemption 7: «separazione o divorzio» (L. 74/1987 art. 19), which
  // waives the diritti too.
  await tabTo(page, "input[name=esenzione]", null);
  for (let i = 0; i < 20; i += 1) {
    if (await page.evaluate(() => document.activeElement.id === "esenzione-7")) break;
    await page.keyboard.press("ArrowDown");
  }
  await page.keyboard.press("Space");
  await tabTo(page, "main button[type=submit]", "Enter");
  await page.waitForURL("**/richiesta/riepilogo");
  await look(page, "riepilogo-esente");
  const exemptSummary = await page.locator("dl.dati").textContent();
  await tabTo(page, "form[action='/richiesta/invia'] button", "Enter");
  await page.waitForURL("**/area-personale/richieste/*");
  await look(page, "richiesta-esente");
  const secondPath = new URL(page.url()).pathname;
  const secondState = (await page.locator("#stato").textContent()).trim();
  const secondHasPdf = (await page.locator("#scarica").count()) === 1;

  // 3. Another family's citizen, by direct address.
  await tabTo(page, "header form[action='/esci'] button", "Enter");
  await page.waitForURL(base + "/");
  const afterLogout = await context.request.get(base + requestPath, { maxRedirects: 0 });
  await demoLogin(page, other);
  const otherPage = await context.request.get(base + requestPath);
  const otherPdf = await context.request.get(base + requestPath + "/certificato.pdf");
  const otherNotice = await context.request.get(base + requestPath + "/avviso.pdf");
  const otherList = await context.request.get(base + "/area-personale");
  const otherListText = await otherList.text();
  await page.goto(base + requestPath);
  await look(page, "richiesta-altrui");

  console.log(
    JSON.stringify({
      pages,
      missing,
      summary,
      requestPath,
      firstState,
      notice,
      notices,
      returned,
      issuedState,
      pdfPath,
      exemptSummary,
      secondPath,
      secondState,
      secondHasPdf,
      afterLogout: { status: afterLogout.status(), location: afterLogout.headers()["location"] },
      other: {
        page: otherPage.status(),
        pdf: otherPdf.status(),
        pdfType: otherPdf.headers()["content-type"],
        notice: otherNotice.status(),
        listShowsFirst: otherListText.includes(requestPath),
      },
      consoleErrors,
    }),
  );
} finally {
  await browser.close();
}
