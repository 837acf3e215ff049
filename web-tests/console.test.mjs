// The admin console in a real browser (headless Chromium), signed in as the owner, an admin,
// a super user and a user, doing the tasks through the pages: people, rights, the CSV import
// with bad rows and its report, blocking a pod guest, and a super user's forged form.
// Every page visited is checked with axe-core and screenshotted (support.mjs).

import assert from "node:assert/strict";
import { createECDH } from "node:crypto";
import { after, before, test } from "node:test";

import { account, api, check, cloudUrl, launch, pagesChecked, phonePage, signIn, WAIT_MS } from "./support.mjs";

let chromium;
const site = {};

before(async () => {
  chromium = await launch();
  site.owner = await account("owner", "Olive Owner");
  const owner = api(site.owner.token);
  const created = await owner.post("/api/v1/sites", { name: "Harbour House", utc_offset_minutes: 60 });
  site.id = created.site_id;
  const people = `/api/v1/sites/${site.id}/people`;
  for (const [key, role, name] of [
    ["admin", "admin", "Ada Admin"], ["superUser", "super_user", "Sam Super"],
    ["user", "user", "Uma User"], ["member", "user", "Mia Member"],
  ]) {
    site[key] = await account(key.toLowerCase(), name);
    await owner.post(people, { email: site[key].email, name, role });
  }
  // A lock's own P-256 public key, as it reads at install (uncompressed point, base64).
  const lockKey = createECDH("prime256v1");
  const lock = await owner.post(`/api/v1/sites/${site.id}/locks`, {
    name: "Front door", public_key: lockKey.generateKeys().toString("base64"),
  });
  site.lockId = lock.lock_id;
  site.pod = await owner.post(`/api/v1/sites/${site.id}/pods`, {
    name: "Apartment 201", lock_ids: [site.lockId],
    members: [{ name: "Mia Member", email: site.member.email }],
  });
});

after(async () => {
  await chromium?.close();
  console.log(`pages checked with axe and screenshotted: ${pagesChecked.length}`);
});

const console_ = (path = "") => `${cloudUrl}/web/console/sites/${site.id}${path}`;

test("the owner signs in, switches to the site and sees its overview with the owner's details", async () => {
  const page = await phonePage(chromium.browser);
  await page.goto(`${cloudUrl}/web/console`);
  await check(page, "sign-in");
  await signIn(page, site.owner);
  await check(page, "sites");
  await page.getByRole("link", { name: "Harbour House" }).click();
  await page.getByRole("heading", { name: "Harbour House", exact: true }).waitFor();
  assert.ok((await page.locator("main").innerText()).includes(site.owner.email));
  await check(page, "overview");
  // The skip link is the first stop of the keyboard.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content");
});

test("the owner searches People, adds a tag profile and changes a person's rights", async () => {
  const page = await phonePage(chromium.browser);
  await signIn(page, site.owner);
  await page.goto(console_("/people"));
  await check(page, "people");
  await page.getByLabel("Search by name or e-mail").fill("uma");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: "Uma User" }).waitFor();
  assert.equal(await page.locator("tbody tr").count(), 1);

  await page.goto(console_("/people/new"));
  await check(page, "person-new");
  await page.getByLabel("Tag profile: no app or e-mail; opens with a tag or a keypad PIN").check();
  await page.getByLabel("Name").fill("Cleaner tag");
  await page.getByLabel(/^Phone/).fill("12");
  await page.getByRole("button", { name: "Add person" }).click();
  await page.locator('[data-error="invalid_phone"]').waitFor();
  await check(page, "person-new-error");
  await page.getByLabel(/^Phone/).fill("");
  await page.getByRole("button", { name: "Add person" }).click();
  await page.locator('[data-done="added"]').waitFor();

  await page.goto(console_(`/people/${site.user.userId}`));
  await page.getByLabel("Remote opening").selectOption("on");
  await page.getByLabel("Privacy override").selectOption("on");
  await page.getByLabel("Offline access").selectOption("on");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator('[data-done="saved"]').waitFor();
  await check(page, "person");
  const listed = await api(site.owner.token).get(`/api/v1/sites/${site.id}/people?q=uma`);
  assert.equal(listed.people[0].remote_opening, true);
  assert.equal(listed.people[0].privacy_override, true);
  assert.equal(listed.people[0].offline_access, true);
});

/// People in the import file: enough for its job to run a few seconds (a progress bar to see).
const IMPORTED = 6000;

test("the owner imports a file with bad rows, follows its progress and reads the report", async () => {
  const page = await phonePage(chromium.browser);
  await signIn(page, site.owner);
  await page.goto(console_("/import"));
  await check(page, "import");
  const rows = ["First name,Last name,Email,Alias,User role"];
  for (let n = 0; n < IMPORTED; n += 1) rows.push(`Imported,Person ${n},imported${n}@example.com,,User`);
  rows.push("Bad,Address,not-an-address,,User", "Odd,Role,odd@example.com,,Emperor");
  const file = { name: "people.csv", mimeType: "text/csv", buffer: Buffer.from(rows.join("\n") + "\n") };

  await page.getByLabel(/^CSV file/).setInputFiles(file);
  await page.getByRole("button", { name: "Preview (changes nothing)" }).click();
  await page.locator('tr[data-reason="bad_email"]').waitFor();
  assert.equal(await page.locator('[data-count="imported"]').innerText(), String(IMPORTED));
  await check(page, "import-preview");

  await page.getByLabel(/^CSV file/).setInputFiles(file);
  await page.getByRole("button", { name: "Import", exact: true }).click();
  // The progress page: its bar fills as the script polls, then the script reloads the page
  // with the report.
  await page.waitForURL(/\/imports\/\d+$/, { timeout: 3 * WAIT_MS });
  // The job may outrun the redirect on a fast machine: then the report is already there.
  const report = page.locator('[data-done="import_done"]');
  await page.locator('#import-progress, [data-done="import_done"]').first().waitFor();
  if (await page.locator("#import-progress").count()) {
    await check(page, "import-progress");
  }
  await report.waitFor({ timeout: 6 * WAIT_MS });
  await check(page, "import-report");
  assert.deepEqual(
    await page.locator("tr[data-reason]").evaluateAll((rows) => rows.map((r) => r.dataset.reason)),
    ["bad_email", "unknown_role"],
  );
  assert.equal(await page.locator('[data-count="imported"]').innerText(), String(IMPORTED));
});

test("an admin makes an access group with a weekly schedule and adds a person to it", async () => {
  const page = await phonePage(chromium.browser);
  await signIn(page, site.admin);
  await page.goto(console_("/locks"));
  await page.locator(`tr[data-lock="${site.lockId}"]`).waitFor();
  await check(page, "locks");
  await page.goto(console_("/groups"));
  await page.getByRole("link", { name: "New access group" }).click();
  await page.getByLabel("Name").fill("Cleaning staff");
  await page.getByLabel("Front door").check();
  const first = page.getByRole("group", { name: "Window 1" });
  await first.getByLabel("Tuesday").check();
  await first.getByLabel("Thursday").check();
  await first.getByLabel("From").fill("06:00");
  await first.getByLabel(/^Until/).fill("09:30");
  await check(page, "group-new");
  await page.getByRole("button", { name: "Make the group" }).click();
  await page.locator('[data-done="created"]').waitFor();
  assert.ok((await page.locator("main").innerText()).includes("Tuesday, Thursday 06:00–09:30"));
  await page.getByLabel("Their e-mail on this site").fill(site.user.email);
  await page.getByRole("button", { name: "Add to the group" }).click();
  await page.locator('[data-done="added"]').waitFor();
  await page.locator(`tr[data-member="${site.user.userId}"]`).waitFor();
  await check(page, "group");
  const groups = await api(site.owner.token).get(`/api/v1/sites/${site.id}/access-groups`);
  const made = groups.find((g) => g.name === "Cleaning staff");
  assert.deepEqual(made.user_ids, [site.user.userId]);
  assert.deepEqual(made.lock_ids, [site.lockId]);
  assert.deepEqual(made.schedule, [{ days: 0b1010, start_minute: 360, end_minute: 570 }]);
});

test("an admin finds the pod by name, blocks its guest, then cleans the pod", async () => {
  const now = Math.floor(Date.now() / 1000);
  const guest = await api(site.member.token).post(`/api/v1/pods/${site.pod.pod_id}/guests`, {
    email: "gus@example.com", name: "Gus Guest", lock_ids: [site.lockId],
    from: now - 60, until: now + 3600,
  });
  const page = await phonePage(chromium.browser);
  await signIn(page, site.admin);
  await page.goto(console_("/pods"));
  await page.getByLabel("Search pods by name").fill("apartment");
  await page.getByRole("button", { name: "Search" }).click();
  await check(page, "pods");
  await page.getByRole("link", { name: "Apartment 201" }).click();
  await page.getByRole("button", { name: "Block Gus Guest" }).click();
  await page.locator('[data-done="blocked"]').waitFor();
  await check(page, "pod");
  assert.equal(await page.locator('tr[data-guest="gus@example.com"]').getAttribute("data-status"), "blocked");
  const guests = await api(site.owner.token).get(`/api/v1/pods/${site.pod.pod_id}/guests`);
  assert.equal(guests.find((g) => g.guest_id === guest.guest_id).status, "blocked");
  // The tenants leave: the pod is cleaned, its lock stays.
  await page.getByRole("button", { name: "Clean Apartment 201" }).click();
  await page.locator('[data-done="cleaned"]').waitFor();
  await check(page, "pod-cleaned");
  const cleaned = await api(site.owner.token).get(`/api/v1/pods/${site.pod.pod_id}`);
  assert.deepEqual([cleaned.members.length, cleaned.locks.length], [0, 1]);
});

test("a super user is not offered owner-only rights, a forged form is refused, and reads the events", async () => {
  const page = await phonePage(chromium.browser);
  await signIn(page, site.superUser);
  await page.goto(console_(`/people/${site.member.userId}`));
  await check(page, "person-super-user");
  assert.equal(await page.getByLabel("Privacy override").count(), 0);
  assert.equal(await page.getByLabel("Offline access").count(), 0);
  assert.equal(await page.locator('select[name="role"] option[value="admin"]').count(), 0);
  // The forged form: the page's own token, a field the page does not offer.
  await page.evaluate(() => {
    const real = document.querySelector('form[action$="/rights"]');
    const forged = document.createElement("form");
    forged.method = "post";
    forged.action = real.action;
    for (const [name, value] of [["privacy_override", "on"], ["role", "admin"],
      ["csrf", real.querySelector('input[name="csrf"]').value]]) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      forged.append(input);
    }
    document.body.append(forged);
    forged.submit();
  });
  await page.locator('[data-error="forbidden"]').waitFor();
  await check(page, "person-forged-refused");
  // The site's events, filtered, and the same as a CSV file.
  await page.goto(console_("/events"));
  await page.getByLabel("Outcome").selectOption("refused");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/result=refused/);
  await check(page, "events");
  const csvLink = page.getByRole("link", { name: /Download these events as CSV/ });
  const exported = await page.request.get(new URL(await csvLink.getAttribute("href"), page.url()).href);
  assert.equal(exported.status(), 200);
  assert.match(exported.headers()["content-type"], /^text\/csv/);
  assert.match(await exported.text(), /^Time,Lock,Lock id,Seq,Person,Person id,Action,Outcome/);
  const listed = await api(site.owner.token).get(`/api/v1/sites/${site.id}/people?q=mia`);
  assert.equal(listed.people[0].role, "user");
  assert.equal(listed.people[0].privacy_override, false);
});

test("a user sees their site but no section to manage, and is refused People", async () => {
  const page = await phonePage(chromium.browser);
  await signIn(page, site.user);
  await page.goto(console_());
  await check(page, "overview-user");
  assert.equal(await page.getByRole("link", { name: "People" }).count(), 0);
  assert.equal(await page.getByRole("link", { name: "Remote opening" }).count(), 1);
  const answer = await page.goto(console_("/people"));
  assert.equal(answer.status(), 403);
  await page.locator('[data-error="forbidden"]').waitFor();
  await check(page, "people-refused");
});
