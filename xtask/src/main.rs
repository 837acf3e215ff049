//! # xtask
//!
//! Project automation for the Keyway workspace, run as `cargo xtask <command>` (the alias
//! lives in `.cargo/config.toml`). It uses the standard library only, so it builds in seconds.
//!
//! | command | what it does |
//! | --- | --- |
//! | `test` | fmt check, clippy, `cargo test`, BLE (btleplug vs mocked BlueZ, `ble.rs`), bindings, Kotlin, Python tests (against a real cloud, `cloud.rs`), `web`: the admin console in headless Debian Chromium (playwright-core, axe-core; `web-tests/`) |
//! | `bindings` | builds the debug `libkeyway_core.so` (and `keyway`) and generates Kotlin, Swift and Python |
//! | `bench` | `cargo bench -p keyway-protocol --bench handshake`; `bench people`: the cloud's people list, 40,000 on a site, over HTTP (`cargo bench -p keyway-cloud --bench people`); `bench import`: the 40,000-row CSV user import over HTTP (`cloud/benches/import.rs`); `bench console`: the admin console's People page of a site of 40,000 (`cloud/benches/console.rs`); `bench live`: live notices' propagation through the core (`tests/benches/live_propagation.rs`) and 10,000 idle streams (`cloud/benches/live.rs`); `bench integrations`: an integration call to the phone's wallet, and webhook deliveries per second (`tests/benches/integrations.rs`) |
//! | `size` | `mobile`-profile build of the core cdylib (as apps ship it), stripped, size in bytes and KiB |
//!
//! The Kotlin and Python steps run against a real cloud, `keyway cloud serve` on a free
//! loopback port started for the step and killed after it (`cloud.rs`).
//!
//! Whatever the tests need and the machine lacks is installed, and said so: Debian packages
//! through `apt-get` (`chromium` for the `web` step), the Kotlin compiler and the browser-test
//! tools (`playwright-core`, `axe-core`) from npm under `target/tools/`, and a Python venv
//! with pytest under `target/venv/`. Installs are skipped when already present.

use std::collections::HashSet;
use std::env;
use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// Debian packages the workspace's builds and tests rely on.
const SYSTEM_PACKAGES: &[&str] = &["pkg-config", "libdbus-1-dev", "libjna-java"];
/// The npm package that ships `kotlinc` and the kotlinx-coroutines / kotlin-test jars.
const KOTLIN_NPM_PACKAGE: &str = "kotlin-compiler@2";
/// The npm packages of the browser tests (`web-tests/`): Playwright's driver without its
/// browser downloads (the tests run Debian's `chromium`), and axe-core.
const WEB_NPM_PACKAGES: &[&str] = &["playwright-core@1", "axe-core@4"];
/// The Debian browser the `web` step drives.
const WEB_BROWSER_PACKAGE: &str = "chromium";
/// Python packages installed in the test venv.
const PYTHON_PACKAGES: &[&str] = &["pytest", "pytest-asyncio", "cryptography"];
/// The binding languages generated into `target/bindings/<language>`.
const LANGUAGES: &[&str] = &["kotlin", "swift", "python"];
/// The Android facade: plain Kotlin over the generated API, so it is compiled with the
/// Kotlin tests to keep it in step with the bindings (the Android app itself is not built here).
const ANDROID_FACADE: &str = "android/keyway/src/main/kotlin/com/keyway/app/KeywayFacade.kt";
/// Default limit for one command, in seconds (see [`command_timeout`]).
const DEFAULT_TIMEOUT_SECS: u64 = 30 * 60;
/// File name of the core cdylib on Linux.
const CORE_LIB: &str = "libkeyway_core.so";
/// The debug build of the core cdylib and of the `keyway` binary (whose cloud the Kotlin and
/// Python tests use), in one cargo command: built apart, with their different dependency
/// features, each would recompile the core the other just built.
const DEBUG_BUILD: &[&str] = &[
    "build",
    "-p",
    "keyway-core",
    "--lib",
    "-p",
    "keyway-cli",
    "--bin",
    "keyway",
];
/// Variables `cargo run` sets for the xtask binary (besides `CARGO_PKG_*`), kept from the
/// cargo commands xtask runs (see [`Ctx::cargo_cmd`]).
const CARGO_RUN_VARS: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
];
/// The core's crate name as UniFFI knows it (keys `[crates.<name>]` in a global config).
const CORE_CRATE: &str = "keyway_core";

/// An xtask failure: a message for the user. `Debug` prints the message as is, because `main`
/// returning `Err` prints it through `Debug`.
struct Error(String);

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(e.to_string())
    }
}

type Result<T, E = Error> = std::result::Result<T, E>;

/// Builds an [`Error`] from a format string.
macro_rules! err {
    ($($arg:tt)*) => { Error(format!($($arg)*)) };
}

mod ble;
mod cloud;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  test       fmt, clippy, cargo test, BLE tests, bindings, Kotlin JVM tests, Python tests,
             the admin console in headless Chromium
             (`cargo xtask test kotlin python` runs only the named steps:
              fmt clippy test ble bindings kotlin python web;
              `ble` = BLE tests, btleplug against a mocked BlueZ)
  bindings   build the debug core and generate Kotlin/Swift/Python into target/bindings/
  bench      cargo bench -p keyway-protocol --bench handshake [extra args]
             (`cargo xtask bench people`: the cloud's people list, 40,000 people on a
              site, first page and page 400 over HTTP)
  bench import
             40,000-row CSV user import over HTTP: one line, time and peak RSS
  bench console
             the admin console's People page, 40,000 people on a site: one line
  size       mobile-profile cdylib, stripped, size in bytes and KiB [extra cargo build args]";

fn main() -> Result<()> {
    let mut args = env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    let mut ctx = Ctx::new()?;
    match command.as_deref() {
        Some("test") => ctx.test(&rest),
        Some("bindings") => ctx.bindings(),
        Some("bench") => ctx.bench(&rest),
        Some("size") => ctx.size(&rest),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(err!("unknown command `{other}`\n\n{USAGE}")),
        None => Err(err!("no command given\n\n{USAGE}")),
    }
}

/// Paths and state shared by the commands.
struct Ctx {
    /// The workspace root.
    root: PathBuf,
    /// The cargo target directory (`CARGO_TARGET_DIR` or `<root>/target`).
    target: PathBuf,
    /// The `cargo` that runs us.
    cargo: String,
    /// Whether `apt-get update` already ran in this process.
    apt_updated: bool,
}

/// One step of `cargo xtask test`.
type StepFn = fn(&mut Ctx) -> Result<()>;

impl Ctx {
    fn new() -> Result<Self> {
        let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let root = manifest_dir
            .parent()
            .ok_or_else(|| err!("xtask manifest dir has no parent"))?
            .to_path_buf();
        let target = match env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => root.join(dir),
            None => root.join("target"),
        };
        let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        Ok(Ctx {
            root,
            target,
            cargo,
            apt_updated: false,
        })
    }

    // ----------------------------------------------------------------------------------
    // commands
    // ----------------------------------------------------------------------------------

    /// `cargo xtask test`: every check, in order, stopping at the first failure.
    /// With step names in `only`, runs just those (in the usual order).
    fn test(&mut self, only: &[String]) -> Result<()> {
        let all: &[(&str, StepFn)] = &[
            ("fmt", Ctx::step_fmt),
            ("clippy", Ctx::step_clippy),
            ("test", Ctx::step_cargo_test),
            ("ble", Ctx::step_ble),
            ("bindings", Ctx::bindings),
            ("kotlin", Ctx::step_kotlin),
            ("python", Ctx::step_python),
            ("web", Ctx::step_web),
        ];
        if let Some(unknown) = only.iter().find(|name| !all.iter().any(|(n, _)| n == name)) {
            let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
            return Err(err!("unknown step `{unknown}`; steps: {}", names.join(" ")));
        }
        let steps: Vec<(&str, StepFn)> = all
            .iter()
            .filter(|(name, _)| only.is_empty() || only.iter().any(|o| o == name))
            .copied()
            .collect();
        let started = Instant::now();
        let mut done: Vec<(&str, Duration, bool)> = Vec::new();
        let mut failure = None;
        for (i, (name, step)) in steps.iter().enumerate() {
            println!("\n==> [{}/{}] {name}", i + 1, steps.len());
            let t = Instant::now();
            let result = step(self);
            let took = t.elapsed();
            match result {
                Ok(()) => {
                    println!("==> {name}: ok in {}", secs(took));
                    done.push((name, took, true));
                }
                Err(e) => {
                    println!("==> {name}: FAILED in {}: {e}", secs(took));
                    done.push((name, took, false));
                    failure = Some(format!("step `{name}` failed: {e}"));
                    break;
                }
            }
        }
        let passed = done.iter().filter(|(_, _, ok)| *ok).count();
        let failed = done.len() - passed;
        let skipped = steps.len() - done.len();
        println!("\n==> summary ({} total)", secs(started.elapsed()));
        for (name, took, ok) in &done {
            println!(
                "    {:<6} {name:<14} {:>9}",
                if *ok { "ok" } else { "FAILED" },
                secs(*took)
            );
        }
        for (name, _) in &steps[done.len()..] {
            println!("    {:<6} {name:<14}", "skip");
        }
        // CI machines have little disk: keep an eye on what the steps leave behind.
        if let Ok(bytes) = disk_usage(&self.target) {
            println!("    target/ holds {} MiB", bytes / (1024 * 1024));
        }
        if skipped > 0 {
            println!("xtask: {passed} passed, {failed} failed, {skipped} skipped");
        } else {
            println!("xtask: {passed} passed, {failed} failed");
        }
        match failure {
            Some(msg) => Err(Error(msg)),
            None => Ok(()),
        }
    }

    /// `cargo xtask bindings`: debug build of the core, then Kotlin, Swift and Python bindings.
    fn bindings(&mut self) -> Result<()> {
        self.cargo_run(DEBUG_BUILD)?;
        let lib = self.core_lib_debug();
        if !lib.is_file() {
            return Err(err!("{} was not built", lib.display()));
        }
        self.cargo_run(&["build", "-p", "uniffi-bindgen"])?;
        let config = self.uniffi_global_config()?;
        let out_root = self.target.join("bindings");
        for language in LANGUAGES {
            let out = out_root.join(language);
            if out.exists() {
                fs::remove_dir_all(&out)?;
            }
            fs::create_dir_all(&out)?;
            let mut cmd = self.cargo_cmd();
            cmd.args([
                "run",
                "--quiet",
                "-p",
                "uniffi-bindgen",
                "--",
                "generate",
                "--library",
            ])
            .arg(&lib)
            .args(["--language", language, "--out-dir"])
            .arg(&out)
            .arg("--no-format");
            if let Some(config) = &config {
                cmd.arg("--config").arg(config);
            }
            run(&mut cmd)?;
            let files = list_files(&out)?;
            if files.is_empty() {
                return Err(err!("uniffi-bindgen wrote nothing for {language}"));
            }
            for f in files {
                println!("    generated {}", self.rel(&f));
            }
        }
        // The generated Python module loads the cdylib from its own directory.
        let py_lib = out_root.join("python").join(CORE_LIB);
        fs::copy(&lib, &py_lib)?;
        println!("    copied {} next to keyway_core.py", CORE_LIB);
        Ok(())
    }

    /// `cargo xtask bench`: the handshake benchmark of keyway-protocol; `cargo xtask bench
    /// people`: the cloud's people list at 40,000 people on a site; `cargo xtask bench import`:
    /// the CSV user import of 40,000 rows over HTTP (`cloud/benches/import.rs`), one line on
    /// stdout; `cargo xtask bench live`: live notices' propagation and 10,000 idle streams
    /// (`cloud/benches/live.rs`).
    fn bench(&mut self, extra: &[String]) -> Result<()> {
        let mut cmd = self.cargo_cmd();
        let extra = match extra.split_first() {
            Some((first, rest)) if first == "people" => {
                cmd.args(["bench", "-p", "keyway-cloud", "--bench", "people"]);
                rest
            }
            Some((first, rest)) if first == "live" => {
                // The core's propagation first, then the cloud's 10,000 streams.
                let mut core = self.cargo_cmd();
                core.args([
                    "bench",
                    "--quiet",
                    "-p",
                    "keyway-e2e",
                    "--bench",
                    "live_propagation",
                ]);
                run(&mut core)?;
                cmd.args(["bench", "--quiet", "-p", "keyway-cloud", "--bench", "live"]);
                rest
            }
            Some((first, rest)) if first == "console" => {
                cmd.args([
                    "bench",
                    "--quiet",
                    "-p",
                    "keyway-cloud",
                    "--bench",
                    "console",
                ]);
                rest
            }
            Some((first, rest)) if first == "integrations" => {
                cmd.args([
                    "bench",
                    "--quiet",
                    "-p",
                    "keyway-e2e",
                    "--bench",
                    "integrations",
                ]);
                rest
            }
            Some((first, rest)) if first == "import" => {
                cmd.args([
                    "bench",
                    "--quiet",
                    "-p",
                    "keyway-cloud",
                    "--bench",
                    "import",
                ]);
                rest
            }
            _ => {
                cmd.args(["bench", "-p", "keyway-protocol", "--bench", "handshake"]);
                extra
            }
        };
        if !extra.is_empty() {
            cmd.arg("--").args(extra);
        }
        run(&mut cmd)
    }

    /// `cargo xtask size`: the stripped size of the core cdylib as apps ship it (`mobile`
    /// profile: size-optimised, fat LTO).
    fn size(&mut self, extra: &[String]) -> Result<()> {
        let mut cmd = self.cargo_cmd();
        cmd.args(["build", "--profile", "mobile", "-p", "keyway-core", "--lib"])
            .args(extra);
        run(&mut cmd)?;
        let lib = self.target.join("mobile").join(CORE_LIB);
        if !lib.is_file() {
            return Err(err!("{} was not built", lib.display()));
        }
        let dir = self.target.join("size");
        fs::create_dir_all(&dir)?;
        let stripped = dir.join(CORE_LIB);
        if stripped.exists() {
            fs::remove_file(&stripped)?;
        }
        if on_path("strip") {
            run(Command::new("strip")
                .arg("--strip-all")
                .arg(&lib)
                .arg("-o")
                .arg(&stripped))?;
        } else if on_path("objcopy") {
            run(Command::new("objcopy")
                .arg("--strip-all")
                .arg(&lib)
                .arg(&stripped))?;
        } else {
            self.ensure_apt(&["binutils"])?;
            run(Command::new("strip")
                .arg("--strip-all")
                .arg(&lib)
                .arg("-o")
                .arg(&stripped))?;
        }
        let before = fs::metadata(&lib)?.len();
        let after = fs::metadata(&stripped)?.len();
        println!(
            "{}: {before} bytes ({}) as built",
            self.rel(&lib),
            kib(before)
        );
        println!(
            "{}: {after} bytes ({}) stripped",
            self.rel(&stripped),
            kib(after)
        );
        println!("size: {CORE_LIB} stripped = {after} bytes = {}", kib(after));
        Ok(())
    }

    // ----------------------------------------------------------------------------------
    // test steps
    // ----------------------------------------------------------------------------------

    fn step_fmt(&mut self) -> Result<()> {
        self.cargo_run(&["fmt", "--all", "--", "--check"])
    }

    fn step_clippy(&mut self) -> Result<()> {
        // The first step that compiles: make sure native build dependencies are there.
        self.ensure_apt(SYSTEM_PACKAGES)?;
        self.cargo_run(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
    }

    fn step_cargo_test(&mut self) -> Result<()> {
        self.cargo_run(&["test", "--workspace"])
    }

    /// Compiles the generated Kotlin and `bindings/tests/kotlin/` into one jar and runs it on
    /// the JVM against the debug cdylib and a real cloud (`cloud.rs`).
    fn step_kotlin(&mut self) -> Result<()> {
        self.ensure_apt(SYSTEM_PACKAGES)?;
        let kotlin_home = self.ensure_kotlinc()?;
        let kotlinc = kotlin_home.join("bin").join("kotlinc");
        let klib = kotlin_home.join("lib");
        let jna = find_jna_jar()?;
        let coroutines = klib.join("kotlinx-coroutines-core-jvm.jar");
        let kotlin_test = klib.join("kotlin-test.jar");
        let stdlib = klib.join("kotlin-stdlib.jar");
        for jar in [&coroutines, &kotlin_test, &stdlib] {
            if !jar.is_file() {
                return Err(err!(
                    "{} is missing from the kotlin-compiler package",
                    jar.display()
                ));
            }
        }

        let mut sources = kotlin_sources(&self.target.join("bindings").join("kotlin"))?;
        let generated = sources.len();
        let tests = kotlin_sources(&self.root.join("bindings").join("tests").join("kotlin"))?;
        if generated == 0 {
            return Err(err!("no generated Kotlin under target/bindings/kotlin"));
        }
        if tests.is_empty() {
            return Err(err!("no Kotlin tests under bindings/tests/kotlin"));
        }
        let test_files = tests.len();
        sources.extend(tests);
        let facade = self.root.join(ANDROID_FACADE);
        let facades = usize::from(facade.is_file());
        if facade.is_file() {
            sources.push(facade);
        }

        let out_dir = self.target.join("kotlin-tests");
        fs::create_dir_all(&out_dir)?;
        // One jar per run: two runs sharing target/ must not swap classes under each other.
        let jar = out_dir.join(format!("keyway-kotlin-tests-{}.jar", std::process::id()));
        if jar.exists() {
            fs::remove_file(&jar)?;
        }
        let compile_cp = join_paths(&[&jna, &coroutines, &kotlin_test])?;
        let mut cmd = Command::new(&kotlinc);
        cmd.current_dir(&self.root)
            .args(["-nowarn", "-jvm-target", "17", "-cp"])
            .arg(&compile_cp)
            .arg("-d")
            .arg(&jar)
            .args(&sources);
        println!("    kotlinc: {generated} generated + {test_files} test + {facades} facade files");
        run(&mut cmd)?;

        let run_cp = join_paths(&[&jar, &stdlib, &coroutines, &kotlin_test, &jna])?;
        let lib_dir = self.target.join("debug");
        let result = self.start_cloud("kotlin").and_then(|cloud| {
            let mut cmd = Command::new("java");
            cmd.current_dir(&self.root)
                .arg(format!("-Djna.library.path={}", lib_dir.display()))
                .arg(format!("-Dkeyway.vectors={}", self.vectors_dir().display()))
                .arg(format!("-Dkeyway.cloud={}", cloud.url))
                .arg(format!(
                    "-Dkeyway.cloud.mailbox={}",
                    cloud.mailbox().display()
                ));
            cmd.arg("-cp").arg(&run_cp).arg("MainKt");
            let result = run(&mut cmd);
            cloud.finish(result.is_ok(), self);
            result
        });
        // Best effort: a leftover jar only takes space under target/.
        let _ = fs::remove_file(&jar);
        result
    }

    /// Runs `bindings/tests/python/` with pytest against the generated `keyway_core.py` and a
    /// real cloud (`cloud.rs`).
    fn step_python(&mut self) -> Result<()> {
        let python = self.ensure_venv()?;
        let module_dir = self.target.join("bindings").join("python");
        if !module_dir.join("keyway_core.py").is_file() || !module_dir.join(CORE_LIB).is_file() {
            return Err(err!(
                "target/bindings/python is incomplete: run `cargo xtask bindings`"
            ));
        }
        let tests = self.root.join("bindings").join("tests").join("python");
        let cloud = self.start_cloud("python")?;
        let mut cmd = Command::new(&python);
        cmd.current_dir(&self.root)
            .env("PYTHONPATH", &module_dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("KEYWAY_VECTORS", self.vectors_dir())
            .env("KEYWAY_CLOUD_URL", &cloud.url)
            .env("KEYWAY_CLOUD_MAILBOX", cloud.mailbox())
            .args(["-m", "pytest", "-p", "no:cacheprovider", "-v", "-c"])
            .arg(tests.join("pytest.ini"))
            .arg("--rootdir")
            .arg(&tests)
            .arg(&tests);
        echo(&cmd);
        let result = wait_with_timeout(&mut cmd).and_then(|status| match status.code() {
            Some(0) => Ok(()),
            Some(5) => Err(err!("pytest collected no tests (exit 5)")),
            _ => Err(failed_status(&cmd, status)),
        });
        cloud.finish(result.is_ok(), self);
        result
    }

    /// Runs `web-tests/*.test.mjs` with `node --test`: the admin console in headless Debian
    /// Chromium (playwright-core) against a real cloud (`cloud.rs`), axe-core on every page,
    /// screenshots under `target/web-screenshots/`; phones and simulated IQs are the debug
    /// `keyway` binary (`KEYWAY_CLI`), each with its own home under `target/web-phones/`.
    fn step_web(&mut self) -> Result<()> {
        self.ensure_apt(&[WEB_BROWSER_PACKAGE])?;
        if !on_path("node") {
            self.ensure_apt(&["nodejs", "npm"])?;
        }
        let tools = self.ensure_web_tools()?;
        let tests_dir = self.root.join("web-tests");
        let mut tests: Vec<PathBuf> = fs::read_dir(&tests_dir)?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.to_string_lossy().ends_with(".test.mjs"))
            .collect();
        tests.sort();
        if tests.is_empty() {
            return Err(err!("no web-tests/*.test.mjs"));
        }
        let screenshots = self.target.join("web-screenshots");
        if screenshots.exists() {
            fs::remove_dir_all(&screenshots)?;
        }
        // Builds `keyway` (the cloud, and the phone and simulated IQ the tests drive).
        let cloud = self.start_cloud("web")?;
        let phones = self.target.join("web-phones");
        if phones.exists() {
            fs::remove_dir_all(&phones)?;
        }
        let mut cmd = Command::new("node");
        cmd.current_dir(&self.root)
            .env("KEYWAY_CLI", self.target.join("debug").join("keyway"))
            .env("KEYWAY_WEB_PHONES", &phones)
            .env("KEYWAY_CLOUD_URL", &cloud.url)
            .env("KEYWAY_CLOUD_MAILBOX", cloud.mailbox())
            // `keyway cloud apps add --data` registers the Connect tests' app there.
            .env("KEYWAY_CLOUD_DATA", &cloud.data)
            .env("KEYWAY_WEB_TOOLS", &tools)
            .env("KEYWAY_WEB_SCREENSHOTS", &screenshots)
            // Playwright never fetches a browser here: the tests name Debian's.
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .args(["--test", "--test-reporter=spec", "--test-timeout=120000"])
            .args(&tests);
        let result = run(&mut cmd);
        cloud.finish(result.is_ok(), self);
        if result.is_ok() {
            println!("    screenshots in {}", self.rel(&screenshots));
        }
        result
    }

    // ----------------------------------------------------------------------------------
    // tools
    // ----------------------------------------------------------------------------------

    /// Returns `target/tools/web`, with [`WEB_NPM_PACKAGES`] installed from npm when needed.
    fn ensure_web_tools(&mut self) -> Result<PathBuf> {
        let prefix = self.target.join("tools").join("web");
        let modules = prefix.join("node_modules");
        let present = modules
            .join("playwright-core")
            .join("package.json")
            .is_file()
            && modules.join("axe-core").join("axe.min.js").is_file();
        if present {
            return Ok(prefix);
        }
        if !on_path("npm") {
            return Err(err!(
                "the browser tests need npm to install {WEB_NPM_PACKAGES:?}"
            ));
        }
        println!(
            "    installing the browser-test tools: npm {} into {}",
            WEB_NPM_PACKAGES.join(" "),
            self.rel(&prefix)
        );
        let t = Instant::now();
        fs::create_dir_all(&prefix)?;
        let mut cmd = Command::new("npm");
        cmd.arg("install")
            .arg("--prefix")
            .arg(&prefix)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .args(["--no-audit", "--no-fund", "--loglevel=error"])
            .args(WEB_NPM_PACKAGES);
        run(&mut cmd)?;
        println!(
            "    installed the browser-test tools in {}",
            secs(t.elapsed())
        );
        Ok(prefix)
    }

    /// Installs the missing Debian `packages` with apt-get (one `apt-get update` per run).
    fn ensure_apt(&mut self, packages: &[&str]) -> Result<()> {
        let missing: Vec<&str> = packages
            .iter()
            .copied()
            .filter(|p| !dpkg_installed(p))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if !on_path("apt-get") {
            return Err(err!(
                "missing system packages {} and no apt-get to install them",
                missing.join(" ")
            ));
        }
        let sudo = !is_root() && on_path("sudo");
        let apt = |args: &[&str]| {
            let mut cmd = if sudo {
                Command::new("sudo")
            } else {
                Command::new("apt-get")
            };
            if sudo {
                cmd.arg("apt-get");
            }
            cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args);
            cmd
        };
        println!("    installing Debian packages: {}", missing.join(" "));
        let t = Instant::now();
        if !self.apt_updated {
            run(&mut apt(&["update", "-q"]))?;
            self.apt_updated = true;
        }
        let mut install = apt(&[
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "-o",
            "Dpkg::Use-Pty=0",
        ]);
        install.args(&missing);
        run(&mut install)?;
        println!(
            "    installed {} in {}",
            missing.join(" "),
            secs(t.elapsed())
        );
        Ok(())
    }

    /// Returns the kotlin-compiler package directory, installing it from npm when needed.
    fn ensure_kotlinc(&mut self) -> Result<PathBuf> {
        let prefix = self.target.join("tools").join("kotlin");
        let home = prefix.join("node_modules").join("kotlin-compiler");
        let kotlinc = home.join("bin").join("kotlinc");
        if kotlinc.is_file()
            && home
                .join("lib")
                .join("kotlinx-coroutines-core-jvm.jar")
                .is_file()
        {
            return Ok(home);
        }
        if !on_path("npm") {
            return Err(err!(
                "kotlinc is not installed and npm is missing to install it"
            ));
        }
        println!(
            "    installing the Kotlin compiler: npm {KOTLIN_NPM_PACKAGE} into {}",
            self.rel(&prefix)
        );
        let t = Instant::now();
        fs::create_dir_all(&prefix)?;
        let mut cmd = Command::new("npm");
        cmd.arg("install").arg("--prefix").arg(&prefix).args([
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            KOTLIN_NPM_PACKAGE,
        ]);
        run(&mut cmd)?;
        if !kotlinc.is_file() {
            return Err(err!(
                "npm installed {KOTLIN_NPM_PACKAGE} but {} is missing",
                kotlinc.display()
            ));
        }
        println!("    installed kotlin-compiler in {}", secs(t.elapsed()));
        Ok(home)
    }

    /// Returns the venv's python, creating `target/venv` with [`PYTHON_PACKAGES`] when needed.
    fn ensure_venv(&mut self) -> Result<PathBuf> {
        let venv = self.target.join("venv");
        let python = venv.join("bin").join("python");
        let ready = python.is_file()
            && Command::new(&python)
                .args(["-c", "import pytest, pytest_asyncio, cryptography"])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
        if ready {
            return Ok(python);
        }
        let t = Instant::now();
        if !python.is_file() {
            let system_python = ["python3", "python"]
                .into_iter()
                .find(|p| on_path(p))
                .ok_or_else(|| err!("no python3 on PATH to create {}", venv.display()))?;
            println!("    creating a Python venv in {}", self.rel(&venv));
            run(Command::new(system_python).args(["-m", "venv"]).arg(&venv))?;
        }
        println!(
            "    installing into the venv: {}",
            PYTHON_PACKAGES.join(" ")
        );
        let mut cmd = Command::new(&python);
        cmd.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(PYTHON_PACKAGES);
        run(&mut cmd)?;
        println!("    venv ready in {}", secs(t.elapsed()));
        Ok(python)
    }

    // ----------------------------------------------------------------------------------
    // helpers
    // ----------------------------------------------------------------------------------

    /// A `cargo` command in the workspace root, without the variables `cargo run` set for
    /// xtask itself. Build scripts watch some of them (ring's reruns on `CARGO_MANIFEST_DIR`),
    /// so with them every build from xtask would redo ring and all above it, and again at the
    /// next plain `cargo build`.
    fn cargo_cmd(&self) -> Command {
        let mut cmd = Command::new(&self.cargo);
        cmd.current_dir(&self.root);
        for (name, _) in env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            if CARGO_RUN_VARS.contains(&name) || name.starts_with("CARGO_PKG_") {
                cmd.env_remove(name);
            }
        }
        cmd
    }

    fn cargo_run(&self, args: &[&str]) -> Result<()> {
        run(self.cargo_cmd().args(args))
    }

    /// UniFFI's library mode reads `uniffi.toml` from each crate's own directory and takes
    /// `--config` only as a global file (`[defaults]`, `[crates.<name>]`). The workspace keeps
    /// its binding settings in the root `uniffi.toml`, so this rewrites its tables under
    /// `[crates.keyway_core.…]` into `target/uniffi/global.toml` and returns that path.
    fn uniffi_global_config(&self) -> Result<Option<PathBuf>> {
        let source = self.root.join("uniffi.toml");
        if !source.is_file() {
            return Ok(None);
        }
        let text = fs::read_to_string(&source)?;
        let mut out = format!(
            "# Generated by xtask from {}: do not edit.\n",
            self.rel(&source)
        );
        for line in text.lines() {
            let trimmed = line.trim_start();
            if let Some(rest) = trimmed.strip_prefix("[[") {
                out.push_str(&format!("[[crates.{CORE_CRATE}.{}", rest.trim_start()));
            } else if let Some(rest) = trimmed.strip_prefix('[') {
                out.push_str(&format!("[crates.{CORE_CRATE}.{}", rest.trim_start()));
            } else {
                out.push_str(line);
            }
            out.push('\n');
        }
        let dir = self.target.join("uniffi");
        fs::create_dir_all(&dir)?;
        let path = dir.join("global.toml");
        fs::write(&path, out)?;
        println!(
            "    binding settings: {} (as {})",
            self.rel(&source),
            self.rel(&path)
        );
        Ok(Some(path))
    }

    fn core_lib_debug(&self) -> PathBuf {
        self.target.join("debug").join(CORE_LIB)
    }

    fn vectors_dir(&self) -> PathBuf {
        self.root.join("protocol").join("vectors")
    }

    /// `path` relative to the workspace root, for messages.
    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

/// Prints the command line, runs it with inherited stdio, and fails on a non-zero exit.
fn run(cmd: &mut Command) -> Result<()> {
    echo(cmd);
    let status = wait_with_timeout(cmd)?;
    if status.success() {
        Ok(())
    } else {
        Err(failed_status(cmd, status))
    }
}

/// How long one command may run: `XTASK_TIMEOUT_SECS`, by default 30 minutes. A hung test
/// then fails the run instead of eating CI's whole time budget.
fn command_timeout() -> Duration {
    let secs = env::var("XTASK_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_TIMEOUT_SECS);
    Duration::from_secs(secs)
}

/// Runs `cmd` with inherited stdio; past [`command_timeout`] kills it and everything it
/// started (a test binary under `cargo test`, say) and fails.
fn wait_with_timeout(cmd: &mut Command) -> Result<ExitStatus> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .spawn()
        .map_err(|e| err!("could not start `{program}`: {e}"))?;
    let timeout = command_timeout();
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let mut pids = descendants(child.id());
            pids.push(child.id());
            println!("    timed out after {}: killing {pids:?}", secs(timeout));
            // Best effort: `child.kill()` below still stops the direct child.
            let _ = Command::new("kill")
                .arg("-KILL")
                .args(pids.iter().map(u32::to_string))
                .status();
            let _ = child.kill();
            let _ = child.wait();
            return Err(err!(
                "`{program}` timed out after {} (XTASK_TIMEOUT_SECS changes the limit)",
                secs(timeout)
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every process descended from `root`, read from `/proc` (empty where there is none).
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        for &(pid, ppid) in &parent_of {
            if ppid == parent && !found.contains(&pid) {
                found.push(pid);
            }
        }
        i += 1;
    }
    found.remove(0);
    found
}

fn echo(cmd: &Command) {
    let args: Vec<String> = cmd
        .get_args()
        .map(|a: &OsStr| a.to_string_lossy().into_owned())
        .collect();
    println!(
        "    $ {} {}",
        cmd.get_program().to_string_lossy(),
        args.join(" ")
    );
}

fn failed_status(cmd: &Command, status: ExitStatus) -> Error {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let sub = cmd
        .get_args()
        .next()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    match status.code() {
        Some(code) => err!("`{program} {sub}` exited with {code}"),
        None => err!("`{program} {sub}` was killed by a signal"),
    }
}

/// Whether `program` is an executable file in one of the `PATH` directories.
fn on_path(program: &str) -> bool {
    env::var_os("PATH")
        .map(|paths| env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Whether the Debian package is installed (`dpkg-query` says "install ok installed").
fn dpkg_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).ends_with(" installed"))
        .unwrap_or(false)
}

/// The JNA jar from Debian's `libjna-java`.
fn find_jna_jar() -> Result<PathBuf> {
    let default = PathBuf::from("/usr/share/java/jna.jar");
    if default.is_file() {
        return Ok(default);
    }
    let out = Command::new("dpkg").args(["-L", "libjna-java"]).output()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .find(|p| {
            p.file_name().and_then(OsStr::to_str).is_some_and(|n| {
                n.starts_with("jna") && n.ends_with(".jar") && !n.contains("platform")
            }) && p.is_file()
        })
        .ok_or_else(|| err!("no jna jar found in libjna-java (dpkg -L libjna-java)"))
}

/// Every file under `dir`, recursively, sorted.
fn list_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = HashSet::new();
    while let Some(d) = stack.pop() {
        if !seen.insert(d.clone()) {
            continue;
        }
        for entry in fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Bytes taken by the files under `dir`, symbolic links not followed.
fn disk_usage(dir: &Path) -> Result<u64> {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    Ok(total)
}

/// Every `.kt` file under `dir` (none when `dir` does not exist).
fn kotlin_sources(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    Ok(list_files(dir)?
        .into_iter()
        .filter(|p| p.extension().and_then(OsStr::to_str) == Some("kt"))
        .collect())
}

/// A JVM class path from jar paths.
fn join_paths(paths: &[&PathBuf]) -> Result<std::ffi::OsString> {
    env::join_paths(paths.iter()).map_err(|e| err!("bad class path entry: {e}"))
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}
