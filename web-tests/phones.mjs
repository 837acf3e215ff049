// Phones and IQs for the browser tests: the real Rust core through the `keyway` CLI
// (KEYWAY_CLI, built by `cargo xtask test web`), one home directory per phone under
// KEYWAY_WEB_PHONES. `keyway login` is finished in Chromium on the cloud's own sign-in page,
// as a person would; `keyway keys`, `keyway watch` (the live channel) and `keyway codes`
// are the phone; `keyway sim iq` is a simulated IQ with simulated locks, installed with an
// admin's phone and connected to the same cloud.
//
// Every wait is bounded in count and time; every child is killed by `killAll()` (call it in
// `after()`), whatever happened.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { cloudUrl, PASSWORD, phonePage, WAIT_MS } from "./support.mjs";

const cli = process.env.KEYWAY_CLI;
const phonesDir = process.env.KEYWAY_WEB_PHONES;
assert.ok(cli && phonesDir, "run through `cargo xtask test web` (KEYWAY_CLI, KEYWAY_WEB_PHONES)");

const children = new Set();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// A running `keyway` process: its stdout lines as they come, and its end.
class Keyway {
  constructor(home, args) {
    this.args = args;
    this.lines = [];
    this.stderr = "";
    this.exit = null;
    this.child = spawn(cli, args, {
      env: { ...process.env, KEYWAY_HOME: home, RUST_LOG: "warn" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.add(this.child);
    let partial = "";
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (chunk) => {
      partial += chunk;
      const parts = partial.split("\n");
      partial = parts.pop();
      this.lines.push(...parts);
    });
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.ended = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        children.delete(this.child);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /// The first line from index `from` on that matches `pattern`, and its index: waits up to
  /// `ms` (looks every 20 ms), fails if the process ends or time runs out first.
  async line(pattern, { from = 0, ms = WAIT_MS } = {}) {
    const looks = Math.ceil(ms / 20);
    for (let look = 0; look <= looks; look += 1) {
      for (let index = from; index < this.lines.length; index += 1) {
        const match = pattern.exec(this.lines[index]);
        if (match) return { match, index };
      }
      if (this.exit) break;
      await sleep(20);
    }
    throw new Error(
      `keyway ${this.args.join(" ")}: no line ${pattern} in ${ms} ms ` +
        `(exit ${JSON.stringify(this.exit)}); stdout ${JSON.stringify(this.lines)}; stderr ${this.stderr}`,
    );
  }

  /// Waits up to `ms` for the process to end, and asserts it succeeded.
  async succeeded(ms = WAIT_MS) {
    const timer = sleep(ms).then(() => null);
    const exit = await Promise.race([this.ended, timer]);
    assert.ok(exit, `keyway ${this.args.join(" ")} still running after ${ms} ms`);
    assert.equal(exit.code, 0, `keyway ${this.args.join(" ")}: ${JSON.stringify(exit)} ${this.stderr}`);
    return this.lines;
  }

  /// Ends the process (stdin closed first: `keyway sim iq` stops its IQ cleanly).
  async stop() {
    if (this.exit) return;
    this.child.stdin.end();
    const timer = sleep(2_000).then(() => null);
    if (!(await Promise.race([this.ended, timer]))) {
      this.child.kill("SIGKILL");
      await this.ended;
    }
  }
}

/// Kills every `keyway` process the tests started and has not ended yet (by its own handle).
export async function killAll() {
  const running = [...children];
  for (const child of running) child.kill("SIGKILL");
  await Promise.all(running.map((child) => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", resolve);
  })));
}

let phones = 0;

/// A phone: the core in its own home, logged in as `who` and registered as a device, the
/// login finished in Chromium on the cloud's sign-in page (authorization code with PKCE,
/// redirected to the CLI's loopback port).
export async function phone(browser, who) {
  phones += 1;
  const home = join(phonesDir, `phone-${process.pid}-${phones}`);
  mkdirSync(home, { recursive: true });
  const login = new Keyway(home, ["login", "--server", cloudUrl]);
  const { match } = await login.line(/^\s+(http\S+\/oauth\/authorize\S+)$/);
  const page = await phonePage(browser);
  try {
    await page.goto(match[1]);
    await page.getByLabel("E-mail").fill(who.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("You are logged in").waitFor();
  } finally {
    await page.context().close();
  }
  await login.line(/^Logged in\. This terminal is device \d+/);
  await login.succeeded();
  return {
    home,
    /// Runs one `keyway` command to its end; returns its stdout lines.
    run: (...args) => new Keyway(home, args).succeeded(),
    /// Starts a long-running `keyway` command (`watch`, `sim iq`).
    start: (...args) => new Keyway(home, args),
  };
}
