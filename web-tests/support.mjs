// The browser tests' plumbing: the cloud `cargo xtask test` started (KEYWAY_CLOUD_URL, its
// local mailbox KEYWAY_CLOUD_MAILBOX), accounts made through the JSON API and the e-mails it
// sends, API tokens through the app's own OAuth flow (authorization code + PKCE), headless
// Chromium driven by playwright-core, axe-core on every page, a screenshot of each.
//
// Every wait is bounded in count and time; everything stays on loopback.

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const toolsDir = process.env.KEYWAY_WEB_TOOLS;
const { chromium } = require(join(toolsDir, "node_modules", "playwright-core"));
const axeSource = readFileSync(join(toolsDir, "node_modules", "axe-core", "axe.min.js"), "utf8");

export const cloudUrl = process.env.KEYWAY_CLOUD_URL;
const mailbox = process.env.KEYWAY_CLOUD_MAILBOX;
const screenshots = process.env.KEYWAY_WEB_SCREENSHOTS;
export const PASSWORD = "correct horse battery";
const APP_CLIENT_ID = "keyway-app";
const REDIRECT_URI = "http://127.0.0.1:9/callback";
/// The longest any one wait may take.
export const WAIT_MS = 10_000;

assert.ok(cloudUrl && mailbox && screenshots && toolsDir, "run through `cargo xtask test web`");

let counter = 0;
/// A fresh address for this run.
export function email(label) {
  counter += 1;
  return `${label}-${process.pid}-${counter}@example.com`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// The verification code of the latest e-mail to `to` (waits up to 5 s, 250 looks).
async function verificationCode(to) {
  for (let look = 0; look < 250; look += 1) {
    let found = null;
    // The cloud makes the mailbox with its first e-mail.
    const names = existsSync(mailbox) ? readdirSync(mailbox).sort() : [];
    for (const name of names) {
      if (name.startsWith(".") || !name.endsWith(".json")) continue;
      const message = JSON.parse(readFileSync(join(mailbox, name), "utf8"));
      const match = message.to === to ? /\b[0-9]{4}-[0-9]{4}\b/.exec(message.body) : null;
      if (match) found = match[0];
    }
    if (found) return found;
    await sleep(20);
  }
  throw new Error(`no verification e-mail to ${to}`);
}

async function json(method, path, { token, body } = {}) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const answer = await fetch(cloudUrl + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const text = await answer.text();
  return { status: answer.status, body: text ? JSON.parse(text) : null };
}

/// The JSON API as `token`'s account: `api(token).post(path, body)` and so on; fails on an
/// answer outside 2xx.
export function api(token) {
  const call = (method) => async (path, body) => {
    const answer = await json(method, path, { token, body });
    assert.ok(answer.status < 300, `${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  return { get: call("GET"), post: call("POST"), patch: call("PATCH"), del: call("DELETE") };
}

const base64url = (bytes) => Buffer.from(bytes).toString("base64url");

/// An access token for the account, through the app's sign-in (authorization code + PKCE).
async function accessToken(address) {
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash("sha256").update(verifier).digest());
  const form = new URLSearchParams({
    email: address, password: PASSWORD, response_type: "code", client_id: APP_CLIENT_ID,
    redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: "S256",
    state: "web-tests",
  });
  const signedIn = await fetch(`${cloudUrl}/oauth/authorize`, {
    method: "POST", body: form, redirect: "manual", signal: AbortSignal.timeout(WAIT_MS),
  });
  const location = signedIn.headers.get("location");
  assert.ok(location, `no redirect from the sign-in: ${signedIn.status}`);
  const code = new URL(location).searchParams.get("code");
  assert.ok(code, `no code in ${location}`);
  const exchanged = await fetch(`${cloudUrl}/oauth/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI,
      client_id: APP_CLIENT_ID, code_verifier: verifier,
    }),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const tokens = await exchanged.json();
  assert.equal(exchanged.status, 200, JSON.stringify(tokens));
  return tokens.access_token;
}

/// A new account with a verified address and a password: `{ email, token, userId }`.
export async function account(label, name) {
  const address = email(label);
  const started = await json("POST", "/api/v1/accounts", {
    body: { email: address, name, password: PASSWORD },
  });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const code = await verificationCode(address);
  const verified = await json("POST", "/api/v1/accounts/verify", {
    body: { email: address, code, password: PASSWORD },
  });
  assert.equal(verified.status, 200, JSON.stringify(verified.body));
  return { email: address, token: await accessToken(address), userId: verified.body.user_id };
}

/// Headless Chromium from Debian, with no background network calls. Playwright gives each
/// launch a fresh temporary profile (its own `--user-data-dir`, which it will not take from us).
export async function launch() {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    timeout: 60_000,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run",
    ],
  });
  return { browser, close: () => browser.close() };
}

/// A phone-sized page of a fresh context (its own cookies), every wait bounded.
export async function phonePage(browser) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  const page = await context.newPage();
  return page;
}

/// Signs in through the console's form.
export async function signIn(page, who) {
  await page.goto(`${cloudUrl}/web/console`);
  await page.getByLabel("E-mail").fill(who.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Sites", exact: true }).waitFor();
}

export const pagesChecked = [];

/// Runs axe-core on the page as it is now (its HTML served again at its own address in a
/// context that bypasses the CSP, which rightly blocks the injected script), asserts no
/// serious or critical violation, and saves a screenshot as `<name>.png`.
export async function check(page, name) {
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
  const html = await page.content();
  const url = page.url();
  const context = await page.context().browser().newContext({
    bypassCSP: true,
    storageState: await page.context().storageState(),
    viewport: page.viewportSize(),
  });
  try {
    context.setDefaultTimeout(WAIT_MS);
    const copy = await context.newPage();
    await copy.route(url, (route) => route.fulfill({ body: html, contentType: "text/html" }));
    await copy.goto(url);
    await copy.addScriptTag({ content: axeSource });
    const results = await copy.evaluate(() => globalThis.axe.run(document));
    const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(
      bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
      [],
      `axe on ${name} (${url})`,
    );
  } finally {
    await context.close();
  }
  pagesChecked.push(name);
}
