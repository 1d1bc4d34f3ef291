// Drives Herald's dashboard in real headless Chromium: sign in, create an endpoint through
// the form, publish through the API, watch the delivery appear live, open it, see the
// attempt's status and response body, resend it and see a second attempt, open the room and
// bot pages. Every page is captured at laptop and phone widths.
//
// Usage: node dashboard.mjs BASE ADMIN_TOKEN APP RECEIVER_URL OUT_DIR
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

const [base, token, app, receiver, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const step = (what) => console.log(`step: ${what}`);

async function shoot(name) {
  for (const [width, height, kind] of [[1280, 800, "laptop"], [390, 844, "phone"]]) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: `${out}/${name}-${kind}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

try {
  await page.goto(`${base}/ui`);
  await page.waitForURL(/\/ui\/sign-in$/);
  await shoot("sign-in");
  step("sign in");
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/ui\/apps$/);
  await shoot("apps");

  step("create an endpoint through the form");
  await page.goto(`${base}/ui/apps/${app}/endpoints/new`);
  await shoot("endpoint-form");
  await page.getByLabel("URL").fill(receiver);
  await page.getByLabel("Name", { exact: true }).fill("Browser receiver");
  await page.getByRole("button", { name: "Create endpoint" }).click();
  await page.waitForURL(/\/endpoints\/ep_/);
  await shoot("endpoint");
  const endpointPage = page.url();

  step("edit the endpoint");
  await page.getByRole("link", { name: "Edit endpoint" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Browser receiver, edited");
  await page.getByLabel("Timeout (ms)").fill("5000");
  await page.getByRole("button", { name: "Save endpoint" }).click();
  await page.waitForURL(endpointPage);
  await page.getByRole("heading", { name: "Browser receiver, edited" }).waitFor();
  await page.goto(`${endpointPage}/edit`);
  await page.getByLabel("Timeout (ms)").fill("12");
  await page.getByRole("button", { name: "Save endpoint" }).click();
  await page.getByText("timeout_ms").first().waitFor();
  await shoot("endpoint-edit-refused");
  await page.goto(endpointPage);

  step("send a test event of a chosen type");
  await page.getByLabel("Send a test event").selectOption("recording.started");
  await page.getByRole("button", { name: "Send test event" }).click();
  await page.getByText("recording.started").first().waitFor();
  const testCode = await page.locator("article.card dd").nth(3).textContent();
  if (testCode.trim() !== "200") throw new Error(`test event status code ${testCode}`);
  await shoot("test-event");
  await page.goto(endpointPage);
  await page.getByRole("button", { name: "Reveal secret" }).click();
  const secret = await page.locator("pre.secret").textContent();
  if (!secret.startsWith("whsec_")) throw new Error(`revealed ${secret}`);
  await shoot("secret");

  step("publish through the API and watch it arrive live");
  await page.goto(`${base}/ui/apps/${app}`);
  await page.waitForFunction(() => document.body.getAttribute("data-live"));
  await page.waitForTimeout(1500); // the live stream is open and has its first picture
  const resp = await fetch(`${base}/v1/apps/${app}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ type: "participant.joined", data: { name: "Ada" },
      labels: { room_id: "r1", bot_id: "b1" } }),
  });
  if (resp.status !== 202) throw new Error(`publish answered ${resp.status}`);
  const { id: eventId } = await resp.json();
  await page.locator(`a[href$="/events/${eventId}"]`).waitFor({ timeout: 20000 });
  await shoot("app");

  step("open the event and its delivery");
  await page.locator(`a[href$="/events/${eventId}"]`).click();
  await page.locator('a[href*="/deliveries/"] .status.succeeded').waitFor({ timeout: 20000 });
  await shoot("event");
  await page.locator('a[href*="/deliveries/"]').first().click();
  await page.waitForURL(/\/deliveries\/dlv_/);
  await page.getByText("Status code").first().waitFor();
  const first = await page.locator("article.card").count();
  if (first !== 1) throw new Error(`expected one attempt, saw ${first}`);
  const code = await page.locator("article.card dd").nth(3).textContent();
  if (code.trim() !== "200") throw new Error(`attempt status code ${code}`);
  const body = await page.locator("pre.response").first().textContent();
  if (!body.includes("received")) throw new Error(`response body ${body}`);
  await shoot("delivery");

  step("resend and see a second attempt");
  await page.getByRole("button", { name: "Resend" }).click();
  await page.waitForURL(/\/deliveries\/dlv_/);
  await page.waitForFunction(() => document.querySelectorAll("article.card").length >= 2,
    null, { timeout: 20000 });
  await shoot("delivery-resent");

  step("the room and bot pages");
  await page.goto(`${base}/ui/apps/${app}/rooms/r1`);
  await page.getByText("participant.joined").first().waitFor();
  await shoot("room");
  await page.goto(`${base}/ui/apps/${app}/bots/b1`);
  await page.getByText("participant.joined").first().waitFor();
  await shoot("bot");
  console.log("dashboard: ok");
} catch (e) {
  await page.screenshot({ path: `${out}/failure.png`, fullPage: true }).catch(() => {});
  console.error(`dashboard: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
