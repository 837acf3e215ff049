// "Connect" (manual 004) in a real browser: a registered app (made with `keyway cloud apps
// add`) sends the owner to Keyway's sign-in page, then the consent page (the app's name, its
// scopes in words, the sites they administer, none picked), Allow goes back to the app with a
// code, the app trades it for its site token; the owner then sees the app on the console's
// Connected apps page and disconnects it (the token stops). A super user sees the page that
// says they administer no site. Every page is checked with axe-core and screenshotted.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";

import { account, api, check, cloudUrl, launch, phonePage, signIn, WAIT_MS } from "./support.mjs";

const REDIRECT = "http://127.0.0.1:9/keyway/callback";
let chromium;
const site = {};
const app = {};

before(async () => {
  chromium = await launch();
  const printed = execFileSync(process.env.KEYWAY_CLI, [
    "cloud", "apps", "add", "--data", process.env.KEYWAY_CLOUD_DATA,
    "--name", "Hub Coworking", "--redirect-uri", REDIRECT,
  ], { encoding: "utf8" });
  app.clientId = /client_id:\s+(kwa_\S+)/.exec(printed)[1];
  app.secret = /client_secret:\s+(kwas_\S+)/.exec(printed)[1];
  site.owner = await account("connect-owner", "Cleo Owner");
  const owner = api(site.owner.token);
  site.id = (await owner.post("/api/v1/sites", { name: "Hub Central", utc_offset_minutes: 0 })).site_id;
  site.superUser = await account("connect-super", "Sam Super");
  await owner.post(`/api/v1/sites/${site.id}/people`, {
    email: site.superUser.email, name: "Sam Super", role: "super_user",
  });
});

after(async () => {
  await chromium?.close();
});

const base64url = (bytes) => Buffer.from(bytes).toString("base64url");

/// Opens the app's authorization request and signs in as `who`: the consent page, and the
/// PKCE verifier.
async function consentPage(page, who) {
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash("sha256").update(verifier).digest());
  const query = new URLSearchParams({
    response_type: "code", client_id: app.clientId, redirect_uri: REDIRECT,
    scope: "people:write access:write", state: "hub-42", code_challenge: challenge,
    code_challenge_method: "S256",
  });
  await page.goto(`${cloudUrl}/oauth/authorize?${query}`);
  await page.getByLabel("E-mail").fill(who.email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Connect Hub Coworking" }).waitFor();
  return verifier;
}

test("the owner connects the app to their site, and disconnects it from the console", async () => {
  const page = await phonePage(chromium.browser);
  // The app's own server is not running here: its callback is answered in the browser.
  let callback = null;
  await page.route(`${REDIRECT}**`, (route) => {
    callback = new URL(route.request().url());
    return route.fulfill({ body: "<!doctype html><title>Hub</title><main>Connected</main>", contentType: "text/html" });
  });
  const verifier = await consentPage(page, site.owner);
  const scopes = await page.locator("[data-scope]").evaluateAll((items) => items.map((i) => i.dataset.scope));
  assert.deepEqual(scopes.sort(), ["access:write", "people:write"]);
  assert.equal(await page.getByRole("radio").count(), 1);
  assert.equal(await page.getByRole("radio", { checked: true }).count(), 0, "none picked");
  await check(page, "connect-consent");

  // Allow without a site: the error is next to the picker, nothing is granted.
  await page.getByRole("button", { name: "Allow" }).click();
  await page.locator('[data-error="invalid_input"]').waitFor();
  await check(page, "connect-consent-no-site-picked");
  await page.getByRole("radio", { name: "Hub Central" }).check();
  await page.getByRole("button", { name: "Allow" }).click();
  await page.getByText("Connected").waitFor();
  assert.equal(callback.searchParams.get("state"), "hub-42");
  const code = callback.searchParams.get("code");
  assert.ok(code);

  const exchanged = await fetch(`${cloudUrl}/oauth/token`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`${app.clientId}:${app.secret}`).toString("base64")}` },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier }),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const token = await exchanged.json();
  assert.equal(exchanged.status, 200, JSON.stringify(token));
  assert.equal(token.site_id, site.id);
  const upsert = (bearer) => fetch(`${cloudUrl}/api/v1/integrations/people/member-7`, {
    method: "PUT",
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Mia Member", email: "mia-connect@example.com" }),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  assert.ok((await upsert(token.access_token)).status < 300);

  const consolePage = await phonePage(chromium.browser);
  await signIn(consolePage, site.owner);
  await consolePage.goto(`${cloudUrl}/web/console/sites/${site.id}`);
  await consolePage.getByRole("link", { name: "Connected apps" }).click();
  await consolePage.getByRole("heading", { name: "Connected apps", exact: true }).waitFor();
  assert.ok((await consolePage.content()).includes("Hub Coworking"));
  await check(consolePage, "connected-apps");
  await consolePage.getByRole("button", { name: "Disconnect Hub Coworking" }).click();
  await consolePage.locator('[data-done="disconnected"]').waitFor();
  await check(consolePage, "connected-apps-disconnected");
  assert.equal((await upsert(token.access_token)).status, 401);
});

test("a super user is told they administer no site, and the console hides the page", async () => {
  const page = await phonePage(chromium.browser);
  await consentPage(page, site.superUser);
  assert.equal(await page.getByRole("radio").count(), 0);
  await page.locator('[data-error="forbidden"]').waitFor();
  await check(page, "connect-no-site");
  const consolePage = await phonePage(chromium.browser);
  await signIn(consolePage, site.superUser);
  await consolePage.goto(`${cloudUrl}/web/console/sites/${site.id}`);
  assert.equal(await consolePage.getByRole("link", { name: "Connected apps" }).count(), 0);
});
