// The console and a real phone in the same test: an admin takes a person out of an access
// group in the console and their phone (the Rust core, `keyway watch`, through the live
// channel) loses the key, then regains it when they are put back; a person with remote
// opening opens a door from /web/remote with the code their phone shows, through a
// simulated IQ connected to the same cloud (`keyway sim iq`), whose lock runs its motor and
// reports the opening, which the console's Events page then lists; a wrong code and a reused
// code are refused. Pages are checked with axe-core and screenshotted (support.mjs).

import assert from "node:assert/strict";
import { createECDH } from "node:crypto";
import { after, before, test } from "node:test";

import { killAll, phone } from "./phones.mjs";
import { account, api, check, cloudUrl, launch, PASSWORD, phonePage, signIn, WAIT_MS } from "./support.mjs";

let chromium;
const site = {};

before(async () => {
  chromium = await launch();
  site.owner = await account("phone-owner", "Otto Owner");
  const owner = api(site.owner.token);
  const created = await owner.post("/api/v1/sites", { name: "Canal Yard", utc_offset_minutes: 0 });
  site.id = created.site_id;
  site.authorityKey = created.authority_public_key;
  site.tenant = await account("phone-tenant", "Tia Tenant");
  const added = await owner.post(`/api/v1/sites/${site.id}/people`, {
    email: site.tenant.email, name: "Tia Tenant", role: "user",
  });
  site.tenantId = added.user_id;
  const lockKey = createECDH("prime256v1");
  const lock = await owner.post(`/api/v1/sites/${site.id}/locks`, {
    name: "Bike store", public_key: lockKey.generateKeys().toString("base64"),
  });
  const group = await owner.post(`/api/v1/sites/${site.id}/access-groups`, {
    name: "Bike store users", lock_ids: [lock.lock_id], user_ids: [site.tenantId], schedule: [],
  });
  site.bikeLock = lock.lock_id;
  site.bikeGroup = group.group_id;
});

after(async () => {
  await killAll();
  await chromium?.close();
});

const console_ = (path = "") => `${cloudUrl}/web/console/sites/${site.id}${path}`;

test("an admin takes a person out of a group and back in; their phone's key goes and comes back live", async () => {
  const tenantPhone = await phone(chromium.browser, site.tenant);
  const listed = await tenantPhone.run("keys");
  assert.ok(listed.some((line) => line.includes(`lock ${String(site.bikeLock).padStart(6)}`)), listed.join("\n"));
  const watch = tenantPhone.start("watch");
  await watch.line(/^Watching for access changes/);

  const page = await phonePage(chromium.browser);
  await signIn(page, site.owner);
  await page.goto(console_(`/groups/${site.bikeGroup}`));
  await page.getByRole("button", { name: "Take out Tia Tenant" }).click();
  await page.locator('[data-done="taken_out"]').waitFor();
  await check(page, "phone-group-taken-out");
  // The wallet as the live channel leaves it: no key left for the bike store (the channel may
  // first report the wallet it found when it connected).
  const gone = await watch.line(/^keys: 0 key\(s\), 0 lock\(s\)$/);

  await page.getByLabel("Their e-mail on this site").fill(site.tenant.email);
  await page.getByRole("button", { name: "Add to the group" }).click();
  await page.locator('[data-done="added"]').waitFor();
  await watch.line(/^keys: 1 key\(s\), 1 lock\(s\)$/, { from: gone.index + 1 });
  const relisted = await tenantPhone.run("keys");
  assert.ok(relisted.some((line) => line.includes(`lock ${String(site.bikeLock).padStart(6)}`)), relisted.join("\n"));
  await watch.stop();
});

test("a person with remote opening opens a door from the web page with the code their phone shows", async () => {
  // The installer (the owner's phone) puts an IQ with one lock on the site; its motor runs 300 ms.
  const ownerPhone = await phone(chromium.browser, site.owner);
  const iq = ownerPhone.start(
    "sim", "iq", "--site-id", String(site.id), "--authority-key", site.authorityKey,
    "--lock", "Main entrance", "--name", "Lobby IQ", "--actuation-ms", "300",
  );
  const lock = await iq.line(/^LOCK (\d+) Main entrance$/);
  const lockId = Number(lock.match[1]);
  const online = await iq.line(/^IQ (\d+) online$/);
  const iqId = Number(online.match[1]);

  // The admin, in the console: remote opening for the tenant, and a group of that door.
  const admin = await phonePage(chromium.browser);
  await signIn(admin, site.owner);
  await admin.goto(console_(`/people/${site.tenantId}`));
  await admin.getByLabel("Remote opening").selectOption("on");
  await admin.getByRole("button", { name: "Save" }).click();
  await admin.locator('[data-done="saved"]').waitFor();
  await admin.goto(console_("/groups/new"));
  await admin.getByLabel("Name").fill("Lobby");
  await admin.getByLabel("Main entrance").check();
  await admin.getByRole("button", { name: "Make the group" }).click();
  await admin.locator('[data-done="created"]').waitFor();
  await admin.getByLabel("Their e-mail on this site").fill(site.tenant.email);
  await admin.getByRole("button", { name: "Add to the group" }).click();
  await admin.locator('[data-done="added"]').waitFor();
  await admin.goto(console_("/locks"));
  await admin.locator(`tr[data-lock="${lockId}"][data-online="true"]`).waitFor();

  // The tenant's phone shows the IQ's code.
  const tenantPhone = await phone(chromium.browser, site.tenant);
  const codes = await tenantPhone.run("codes");
  const shown = codes.map((line) => /^IQ (\d+) ([0-9A-Z]{5}) (\d+)s /.exec(line)).find((m) => m && Number(m[1]) === iqId);
  assert.ok(shown, codes.join("\n"));
  const code = shown[2];

  // The tenant at a browser: sign in to the remote-opening page, pick the door.
  const web = await phonePage(chromium.browser);
  await web.goto(`${cloudUrl}/web/remote`);
  await web.getByLabel("E-mail").fill(site.tenant.email);
  await web.getByLabel("Password").fill(PASSWORD);
  await web.getByRole("button", { name: "Sign in" }).click();
  await web.getByLabel("Door").selectOption(`${site.id}:${lockId}`);
  await check(web, "remote-opening");

  // A wrong code: refused by the cloud, and the lock never hears of it.
  const before = iq.lines.length;
  const wrong = code.slice(1) + code[0] === code ? (code[0] === "A" ? "B" : "A") + code.slice(1) : code.slice(1) + code[0];
  await web.getByLabel("Code from the app").fill(wrong);
  await web.getByRole("button", { name: "Open" }).click();
  await web.locator('[data-error="code_rejected"]').waitFor();

  // The right code: the lock runs its motor and reports the opening.
  await web.getByLabel("Door").selectOption(`${site.id}:${lockId}`);
  await web.getByLabel("Code from the app").fill(code);
  await web.getByRole("button", { name: "Open" }).click();
  await web.locator("p.ok[role=alert]").waitFor();
  await check(web, "remote-opened");
  const opened = await iq.line(new RegExp(`^EVENT ${lockId} (\\d+) granted ${site.tenantId}$`), { from: before });
  assert.equal(
    iq.lines.slice(before, opened.index).filter((line) => line.startsWith("EVENT")).length, 0,
    `the wrong code reached the lock: ${iq.lines.join("\n")}`,
  );

  // The same code again: each step's code opens once.
  await web.getByLabel("Door").selectOption(`${site.id}:${lockId}`);
  await web.getByLabel("Code from the app").fill(code);
  await web.getByRole("button", { name: "Open" }).click();
  await web.locator('[data-error="code_rejected"]').waitFor();

  // The IQ hands the lock's signed record to the cloud: the console's Events page lists it.
  const events = console_(`/events?lock=${lockId}&result=granted`);
  let row = null;
  for (let look = 0; look < 50 && !row; look += 1) {
    await admin.goto(events);
    const rows = admin.locator(`tr[data-lock="${lockId}"][data-granted="true"]`);
    if ((await rows.count()) > 0) row = rows.first();
    else await admin.waitForTimeout(WAIT_MS / 50);
  }
  assert.ok(row, "the opening is not on the Events page");
  assert.match(await row.innerText(), /Tia Tenant/);
  await check(admin, "phone-events");
  await iq.stop();
});
