//! The `ble` step of `cargo xtask test`: the core's btleplug transport against a mocked BlueZ
//! on a private D-Bus (`tests/ble/`), whose GATT peripherals are `keyway sim lock --stdio`.
//!
//! It needs `dbus-daemon`, a Python that imports `dbus` and `dbusmock`, and `libdbus-1-dev` +
//! `pkg-config` to build btleplug. Missing ones are installed: Debian packages through
//! apt-get, else `python-dbusmock` and `dbus-python` from PyPI into `target/venv-ble`. Only
//! when they are absent and cannot be installed does the step skip, with a loud banner;
//! `XTASK_REQUIRE_BLE=1` turns that skip into a failure.

use std::env;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::{on_path, run, Ctx, Error, Result};

/// Debian packages the BLE tests need.
const BLE_PACKAGES: &[&str] = &["dbus", "python3-dbusmock", "libdbus-1-dev", "pkg-config"];
/// PyPI packages for the venv fallback (dbus-python builds against libdbus-1-dev).
const BLE_PYTHON_PACKAGES: &[&str] = &["dbus-python", "python-dbusmock"];

/// What the BLE tests run with.
struct BleTools {
    python: PathBuf,
}

impl Ctx {
    /// BLE tests (btleplug against mocked BlueZ).
    pub(crate) fn step_ble(&mut self) -> Result<()> {
        println!(
            "    BLE tests (btleplug against mocked BlueZ): tests/ble/ + keyway-e2e --features ble"
        );
        let tools = match self.ble_tools() {
            Ok(tools) => tools,
            Err(reason) => return skip(&reason),
        };
        println!(
            "    python with dbus + dbusmock: {}",
            tools.python.display()
        );
        // The feature-gated code is outside the workspace-wide clippy step: lint it here.
        self.cargo_run(&[
            "clippy",
            "-p",
            "keyway-core",
            "-p",
            "keyway-cli",
            "-p",
            "keyway-e2e",
            "--all-targets",
            "--features",
            "keyway-core/ble-btleplug,keyway-cli/ble,keyway-e2e/ble",
            "--",
            "-D",
            "warnings",
        ])?;
        // The lock simulator the mock runs, built with BLE so `keyway unlock --ble` compiles too.
        self.cargo_run(&[
            "build",
            "-p",
            "keyway-cli",
            "--bin",
            "keyway",
            "--features",
            "ble",
        ])?;
        let keyway = self.target.join("debug").join("keyway");
        if !keyway.is_file() {
            return Err(err!("{} was not built", keyway.display()));
        }
        let mut cmd = self.cargo_cmd();
        cmd.args([
            "test",
            "-p",
            "keyway-e2e",
            "--features",
            "ble",
            "--test",
            "ble_btleplug",
            "--",
            "--nocapture",
        ])
        .env("KEYWAY_BIN", &keyway)
        .env("KEYWAY_BLE_PYTHON", &tools.python);
        run(&mut cmd)
    }

    /// Finds the tools, installing what is missing; `Err` says why they cannot be had.
    fn ble_tools(&mut self) -> Result<BleTools, String> {
        if let Some(tools) = self.present_ble_tools() {
            return Ok(tools);
        }
        let mut attempts = Vec::new();
        if on_path("apt-get") {
            match self.ensure_apt(BLE_PACKAGES) {
                Ok(()) => {
                    if let Some(tools) = self.present_ble_tools() {
                        return Ok(tools);
                    }
                    attempts.push(format!(
                        "apt-get installed {} but the tools are still missing",
                        BLE_PACKAGES.join(" ")
                    ));
                }
                Err(e) => attempts.push(format!("apt-get install failed: {e}")),
            }
        } else {
            attempts.push("no apt-get".to_string());
        }
        match self.ble_venv() {
            Ok(()) => {
                if let Some(tools) = self.present_ble_tools() {
                    return Ok(tools);
                }
            }
            Err(e) => attempts.push(format!("pip into target/venv-ble failed: {e}")),
        }
        Err(format!(
            "{} ({})",
            missing_ble_tools(self.ble_python().is_some()).join(", "),
            attempts.join("; ")
        ))
    }

    /// The tools, if all present now.
    fn present_ble_tools(&self) -> Option<BleTools> {
        let python = self.ble_python();
        if missing_ble_tools(python.is_some()).is_empty() {
            python.map(|python| BleTools { python })
        } else {
            None
        }
    }

    /// A Python that imports `dbus` and `dbusmock`: `$KEYWAY_BLE_PYTHON`, the system one, the
    /// first on `PATH`, or the `target/venv-ble` fallback.
    fn ble_python(&self) -> Option<PathBuf> {
        let mut candidates: Vec<PathBuf> = env::var_os("KEYWAY_BLE_PYTHON")
            .map(PathBuf::from)
            .into_iter()
            .collect();
        candidates.push(PathBuf::from("/usr/bin/python3"));
        candidates.push(PathBuf::from("python3"));
        candidates.push(self.target.join("venv-ble").join("bin").join("python"));
        candidates.into_iter().find(|python| {
            Command::new(python)
                .args(["-c", "import dbus, dbusmock"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    }

    /// `target/venv-ble` with dbus-python and python-dbusmock from PyPI.
    fn ble_venv(&self) -> Result<()> {
        let venv = self.target.join("venv-ble");
        let python = venv.join("bin").join("python");
        if !python.is_file() {
            let system = ["python3", "python"]
                .into_iter()
                .find(|p| on_path(p))
                .ok_or_else(|| err!("no python3 on PATH"))?;
            run(Command::new(system)
                .args(["-m", "venv", "--system-site-packages"])
                .arg(&venv))?;
        }
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(BLE_PYTHON_PACKAGES))
    }
}

/// What is missing, as words for the skip banner.
fn missing_ble_tools(have_python: bool) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if !on_path("dbus-daemon") {
        missing.push("dbus-daemon (Debian: dbus)");
    }
    if !have_python {
        missing.push("a Python with dbus + dbusmock (Debian: python3-dbusmock)");
    }
    let libdbus = Command::new("pkg-config")
        .args(["--exists", "dbus-1"])
        .status()
        .is_ok_and(|s| s.success());
    if !libdbus {
        missing.push("pkg-config + dbus-1 headers (Debian: pkg-config libdbus-1-dev)");
    }
    missing
}

/// Skips loudly, or fails when `XTASK_REQUIRE_BLE=1`.
fn skip(reason: &str) -> Result<()> {
    let bar = "!".repeat(96);
    println!("    {bar}");
    println!("    !!! SKIPPED: BLE tests (btleplug against mocked BlueZ)");
    println!("    !!! the tools are absent and could not be installed: {reason}");
    println!("    !!! the phone's real BLE stack was NOT tested on this machine");
    println!("    {bar}");
    if env::var("XTASK_REQUIRE_BLE").is_ok_and(|v| v == "1") {
        return Err(Error(format!(
            "BLE tests required (XTASK_REQUIRE_BLE=1) but skipped: {reason}"
        )));
    }
    Ok(())
}
