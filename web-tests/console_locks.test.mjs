// The console's lock pages and edit pages in a real browser (headless Chromium, phone-sized):
// an admin changes a lock's settings (and sees a refusal next to its field), changes an access
// group's locks and weekly schedule, makes a pod and adds a member; the owner hands a person
// a tag and gives it offline access. Every page visited is checked with axe-core and
// screenshotted (support.mjs).

import assert from "node:assert/strict";
import { createECDH, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";

import { account, api, check, cloudUrl, email, launch, pagesChecked, phonePage, signIn } from "./support.mjs";

let chromium;
const site = {};
// A card's UID: 7 bytes, as 14 hexadecimal digits (tag ids are unique across every site).
const TAG_ID = `04${randomBytes(6).toString("hex")}`;

/// A P-256 public key as a lock or a tag makes it (uncompressed point, base64).
const publicKey = () => createECDH("prime256v1").generateKeys().toString("base64");

before(async () => {
  chromium = await launch();
  site.owner = await account("locks-owner", "Otto Owner");
  const owner = api(site.owner.token);
  site.id = (await owner.post("/api/v1/sites", { name: "Dock Offices", utc_offset_minutes: 0 })).site_id;
  for (const [key, role, name] of [["admin", "admin", "Alma Admin"], ["user", "user", "Ulla User"]]) {
    site[key] = await account(`locks-${key}`, name);
    await owner.post(`/api/v1/sites/${site.id}/people`, { email: site[key].email, name, role });
  }
  for (const [key, name] of [["gate", "Yard gate"], ["door", "Office door"]]) {
    site[key] = (await owner.post(`/api/v1/sites/${site.id}/locks`, { name, public_key: publicKey() })).lock_id;
  }
  site.group = await owner.post(`/api/v1/sites/${site.id}/access-groups`, {
    name: "Day staff", lock_ids: [site.gate], user_ids: [site.user.userId], schedule: [],
  });
  await owner.post(`/api/v1/sites/${site.id}/tags`, { tag_id: TAG_ID, public_key: publicKey() });
});

after(async () => {
  await chromium?.close();
  console.log(`pages checked with axe and screenshotted: ${pagesChecked.length}`);
});

const console_ = (path = "") => `${cloudUrl}/web/console/sites/${site.id}${path}`;

test("an admin opens a lock from the list and changes its settings", async () => {
  const page = await phonePage(chromium.browser);
  await signIn(page, site.admin);
  await page.goto(console_("/locks"));
  await page.getByRole("link", { name: "Yard gate" }).click();
  await page.getByRole("heading", { name: "Yard gate" }).waitFor();
  await page.locator('[data-chain="empty"]').waitFor();
  await check(page, "lock");

  await page.getByLabel("Near Detection Mode").selectOption("on");
  await page.getByRole("button", { name: "Save the settings" }).click();
  await page.locator('#near-error[data-error="iq_firmware_too_old"]').waitFor();
  await check(page, "lock-settings-error");

  await page.getByLabel("Near Detection Mode").selectOption("off");
  await page.getByLabel("Door-open limit (seconds)").fill("120");
  const first = page.getByRole("group", { name: "Window 1" });
  await first.getByLabel("Monday").check();
  await first.getByLabel("From").fill("07:00");
  await first.getByLabel(/^Until/).fill("19:00");
  await page.getByRole("button", { name: "Save the settings" }).click();
  await page.locator('[data-done="settings_saved"]').waitFor();
  await check(page, "lock-saved");
  const settings = await api(site.owner.token).get(`/api/v1/sites/${site.id}/locks/${site.gate}/settings`);
  assert.equal(settings.door_open_limit_seconds, 120);
  assert.equal(settings.near_detection, false);
  assert.deepEqual(settings.easy_office_schedule, [{ days: 1, start_minute: 420, end_minute: 1140 }]);
});

test("an admin changes an access group's locks and weekly schedule", async () => {
  const page = await phonePage(chromium.browser);
  await signIn(page, site.admin);
  await page.goto(console_(`/groups/${site.group.group_id}`));
  const edit = page.locator(`form[action$="/groups/${site.group.group_id}/edit"]`);
  await edit.getByLabel("Yard gate").uncheck();
  await edit.getByLabel("Office door").check();
  const first = edit.getByRole("group", { name: "Window 1" });
  await first.getByLabel("Wednesday").check();
  await first.getByLabel("From").fill("08:00");
  await first.getByLabel(/^Until/).fill("00:00");
  await check(page, "group-edit");
  await page.getByRole("button", { name: "Save the changes" }).click();
  await page.locator('[data-done="changed"]').waitFor();
  assert.ok((await page.locator("main").innerText()).includes("Wednesday 08:00–24:00"));
  await check(page, "group-changed");
  const groups = await api(site.owner.token).get(`/api/v1/sites/${site.id}/access-groups`);
  const changed = groups.find((g) => g.group_id === site.group.group_id);
  assert.deepEqual(changed.lock_ids, [site.door]);
  assert.deepEqual(changed.schedule, [{ days: 0b100, start_minute: 480, end_minute: 1440 }]);
  assert.deepEqual(changed.user_ids, [site.user.userId]);
});

test("the owner hands a person a tag by its id and gives it offline access", async () => {
  const page = await phonePage(chromium.browser);
  await signIn(page, site.owner);
  await page.goto(console_(`/people/${site.user.userId}`));
  const tagField = page.getByLabel(/^Hand them a registered tag/);
  await tagField.fill(TAG_ID.slice(0, 13));
  // The browser's own check refuses 13 digits before anything is posted.
  assert.equal(await tagField.evaluate((field) => field.validity.patternMismatch), true);
  await tagField.fill(TAG_ID.toUpperCase());
  await page.getByRole("button", { name: "Hand over" }).click();
  await page.locator('[data-done="tag_assigned"]').waitFor();
  await page.getByLabel(`Offline access of tag ${TAG_ID}`, { exact: true }).selectOption("on");
  await page.locator(`tr[data-tag="${TAG_ID}"]`).getByRole("button", { name: "Save" }).click();
  await page.locator('[data-done="tag_saved"]').waitFor();
  await page.locator(`tr[data-tag="${TAG_ID}"][data-offline="true"]`).waitFor();
  await check(page, "person-tags");
  const tags = await api(site.owner.token).get(`/api/v1/sites/${site.id}/tags`);
  assert.deepEqual(
    tags.map((t) => [t.tag_id, t.user_id, t.offline_access]),
    [[TAG_ID, site.user.userId, true]],
  );
});

test("an admin makes a pod with its first member and adds another by e-mail", async () => {
  const page = await phonePage(chromium.browser);
  await signIn(page, site.admin);
  await page.goto(console_("/pods"));
  await page.getByRole("link", { name: "New pod" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Unit 4");
  await page.getByLabel("Office door").check();
  await page.getByLabel("Their full name").fill("Ulla User");
  await page.getByLabel("Their e-mail").fill(site.user.email);
  await check(page, "pod-new");
  await page.getByRole("button", { name: "Make the pod" }).click();
  await page.locator('[data-done="created"]').waitFor();
  await page.locator(`tr[data-member="${site.user.email}"]`).waitFor();
  await page.getByLabel("Their full name").fill("Nils New");
  const nils = email("nils");
  await page.getByLabel("Their e-mail").fill(nils);
  await page.getByRole("button", { name: "Add to the pod" }).click();
  await page.locator('[data-done="member_added"]').waitFor();
  await page.locator(`tr[data-member="${nils}"]`).waitFor();
  await check(page, "pod-member-added");
  const pods = await api(site.owner.token).get(`/api/v1/sites/${site.id}/pods`);
  const made = pods.find((p) => p.name === "Unit 4");
  assert.deepEqual(made.locks.map((l) => l.lock_id), [site.door]);
  assert.deepEqual(made.members.map((m) => m.email).sort(), [site.user.email, nils].sort());
});
