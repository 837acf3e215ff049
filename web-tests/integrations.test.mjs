// The console's integration pages in a real browser, as the owner on a phone-sized screen:
// API keys (make one with the keyboard, its secret shown once, the third live key refused
// next to the form, revoke) and Webhooks (add an endpoint for a key, its signing secret shown
// once, its page with dead letters, delete). A super user is offered neither page. Every
// page is checked with axe-core and screenshotted (support.mjs).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { account, api, check, cloudUrl, launch, phonePage, signIn } from "./support.mjs";

let chromium;
const site = {};

before(async () => {
  chromium = await launch();
  site.owner = await account("integrations-owner", "Ivy Owner");
  const owner = api(site.owner.token);
  site.id = (await owner.post("/api/v1/sites", { name: "Depot Storage", utc_offset_minutes: 0 })).site_id;
  site.superUser = await account("integrations-super", "Sol Super");
  await owner.post(`/api/v1/sites/${site.id}/people`, {
    email: site.superUser.email, name: "Sol Super", role: "super_user",
  });
});

after(async () => {
  await chromium?.close();
});

const console_ = (path = "") => `${cloudUrl}/web/console/sites/${site.id}${path}`;

test("the owner makes API keys (the secret once), meets the two-key limit by the form, and revokes one", async () => {
  const page = await phonePage(chromium.browser);
  await signIn(page, site.owner);
  await page.goto(console_());
  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByRole("heading", { name: "API keys", exact: true }).waitFor();
  await check(page, "api-keys");

  // With the keyboard only: the name, a scope ticked with Space, Enter on the button.
  await page.getByLabel("What it is for").focus();
  await page.keyboard.type("Storage system");
  await page.getByLabel(/^people:write/).focus();
  await page.keyboard.press("Space");
  await page.getByLabel(/^webhooks:manage/).focus();
  await page.keyboard.press("Space");
  await page.getByRole("button", { name: "Make the key" }).focus();
  await page.keyboard.press("Enter");
  await page.locator('[data-done="key_created"]').waitFor();
  const secret = await page.locator('[data-secret="api_key"]').innerText();
  assert.match(secret, /^kwk_[A-Za-z0-9_-]{43}$/);
  await check(page, "api-key-created");
  const listed = await api(site.owner.token).get(`/api/v1/sites/${site.id}/api-keys`);
  assert.deepEqual(listed[0].scopes, ["people:write", "webhooks:manage"]);

  await page.getByRole("link", { name: "Back to API keys" }).click();
  assert.ok(!(await page.content()).includes(secret), "the secret is shown once only");
  for (const name of ["Replacement", "One too many"]) {
    await page.getByLabel("What it is for").fill(name);
    await page.getByLabel(/^events:read/).check();
    await page.getByRole("button", { name: "Make the key" }).click();
    if (name === "Replacement") {
      await page.locator('[data-done="key_created"]').waitFor();
      await page.goto(console_("/api-keys"));
    }
  }
  await page.locator('#key-error[data-error="conflict"]').waitFor();
  assert.equal(await page.getByLabel("What it is for").inputValue(), "One too many");
  await check(page, "api-keys-limit");

  await page.getByRole("button", { name: "Revoke Storage system" }).click();
  await page.locator('[data-done="revoked"]').waitFor();
  assert.equal(await page.locator('tr[data-revoked="true"]').count(), 1);
  const refused = await fetch(`${cloudUrl}/api/v1/integrations/webhooks`, {
    headers: { authorization: `Bearer ${secret}` },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(refused.status, 401, "a revoked key is refused");
});

test("the owner adds a webhook endpoint (the signing secret once), opens its page and deletes it", async () => {
  const page = await phonePage(chromium.browser);
  await signIn(page, site.owner);
  await page.goto(console_("/webhooks"));
  await check(page, "webhooks");
  await page.getByLabel("URL").fill("http://hooks.example.com/keyway");
  await page.getByLabel(/^access\.changed/).check();
  await page.getByRole("button", { name: "Add the endpoint" }).click();
  await page.locator('#webhook-error[data-error="invalid_input"]').waitFor();
  await check(page, "webhooks-error");

  await page.getByLabel("URL").fill("https://hooks.example.com/keyway");
  await page.getByRole("button", { name: "Add the endpoint" }).click();
  await page.locator('[data-done="webhook_created"]').waitFor();
  const secret = await page.locator('[data-secret="webhook"]').innerText();
  assert.match(secret, /^whsec_/);
  await check(page, "webhook-created");

  await page.getByRole("link", { name: "The endpoint's page" }).click();
  await page.getByRole("heading", { name: "Dead letters" }).waitFor();
  assert.ok(!(await page.content()).includes(secret), "the secret is shown once only");
  assert.match(await page.locator("main").innerText(), /access\.changed/);
  await check(page, "webhook");
  await page.getByRole("button", { name: "Delete this endpoint" }).click();
  await page.locator('[data-done="deleted"]').waitFor();
  assert.equal(await page.locator("tr[data-webhook]").count(), 0);
});

test("a super user is offered neither page, and is refused them", async () => {
  const page = await phonePage(chromium.browser);
  await signIn(page, site.superUser);
  await page.goto(console_());
  assert.equal(await page.getByRole("link", { name: "API keys" }).count(), 0);
  assert.equal(await page.getByRole("link", { name: "Webhooks" }).count(), 0);
  const answer = await page.goto(console_("/api-keys"));
  assert.equal(answer.status(), 403);
  await page.locator('[data-error="forbidden"]').waitFor();
});
