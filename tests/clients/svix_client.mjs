// Drives Herald's Svix API with the official `svix` client from npm, unchanged but for the
// server URL, and verifies what Herald delivers with the client's `Webhook`.
//
//     node svix_client.mjs BASE_URL ADMIN_TOKEN
//
// Prints one line per check and exits non-zero at the first one that fails.

import http from "node:http";
import { ApiException, Svix, Webhook } from "svix";

const [base, admin] = process.argv.slice(2);

function check(what, ok) {
  console.log((ok ? "ok   " : "FAIL ") + what);
  if (!ok) process.exit(1);
}

async function waitFor(what, cond, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  check(what, false);
}

async function receiver() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.end("ok");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { requests, server, url: `http://127.0.0.1:${server.address().port}/hook` };
}

async function status(call) {
  try {
    await call();
    return 0;
  } catch (e) {
    if (e instanceof ApiException) return e.code;
    throw e;
  }
}

function verifies(secret, req) {
  try {
    new Webhook(secret).verify(req.body, req.headers);
    return true;
  } catch {
    return false;
  }
}

const svix = new Svix(admin, { serverUrl: base });
const rx = await receiver();
const rxOther = await receiver();

const app = await svix.application.create({ name: "Acme", metadata: { plan: "pro" } });
const other = await svix.application.create({ name: "Other" });
check("applications created", app.id.startsWith("app_") && app.metadata.plan === "pro");

const schema = { type: "object", properties: { room: { type: "string" } } };
const made = await svix.eventType.create({
  name: "call.ended",
  description: "A call ended",
  schemas: { 1: schema },
});
await svix.eventType.create({ name: "call.noted", description: "A note" });
check("an event type keeps its schema", JSON.stringify(made.schemas["1"]) === JSON.stringify(schema));

check(
  "an unknown filter type is a 422",
  (await status(() => svix.endpoint.create(app.id, { url: rx.url, filterTypes: ["call.endd"] }))) === 422,
);
const ep = await svix.endpoint.create(app.id, { url: rx.url, filterTypes: ["call.ended"] });
check("an endpoint filters its types", ep.filterTypes.length === 1 && ep.filterTypes[0] === "call.ended");
await svix.endpoint.create(other.id, { url: rxOther.url });
const secret = (await svix.endpoint.getSecret(app.id, ep.id)).key;
check("the secret reads back", secret.startsWith("whsec_"));

const first = await svix.message.create(app.id, {
  eventType: "call.ended",
  payload: { room: "r1" },
  eventId: "end-1",
});
const again = () =>
  svix.message.create(app.id, { eventType: "call.ended", payload: { room: "r1" }, eventId: "end-1" });
check("a repeated eventId is a 409", (await status(again)) === 409);
await svix.message.create(app.id, { eventType: "call.noted", payload: { note: "n" } });

await waitFor("the message arrives", () => rx.requests.length >= 1);
check("svix's Webhook verifies it", verifies(secret, rx.requests[0]));
check("the body is the payload", JSON.parse(rx.requests[0].body).room === "r1");

const attempts = async () => (await svix.messageAttempt.listByMsg(app.id, first.id)).data;
await waitFor("its attempt is listed", async () => (await attempts()).length === 1);
const [att] = await attempts();
check("the attempt succeeded with 200", att.status === 0 && att.responseStatusCode === 200 && att.endpointId === ep.id);

await svix.endpoint.rotateSecret(app.id, ep.id, {});
const rotated = (await svix.endpoint.getSecret(app.id, ep.id)).key;
check("rotation changes the secret", rotated !== secret);
await svix.message.create(app.id, { eventType: "call.ended", payload: { room: "r2" } });
await waitFor("the second message arrives", () => rx.requests.length >= 2);
check("the new secret verifies it", verifies(rotated, rx.requests[1]));
await waitFor(
  "both attempts list by endpoint",
  async () => (await svix.messageAttempt.listByEndpoint(app.id, ep.id)).data.length === 2,
);

await new Promise((r) => setTimeout(r, 1000));
check("the filtered-out type and the repeat were not delivered", rx.requests.length === 2);
check("the other application received nothing", rxOther.requests.length === 0);

const keyResp = await fetch(`${base}/v1/apps/${other.id}/keys`, {
  method: "POST",
  headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
  body: JSON.stringify({ name: "svix client" }),
});
const scoped = new Svix((await keyResp.json()).token, { serverUrl: base });
check("another app's key cannot list the first's endpoints", (await status(() => scoped.endpoint.list(app.id))) === 404);
check("nor read its messages", (await status(() => scoped.message.get(app.id, first.id))) === 404);
check("and sees only its own app", (await scoped.application.list()).data.map((a) => a.id).join() === other.id);

rx.server.close();
rxOther.server.close();
console.log("all checks passed");
