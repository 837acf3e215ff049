//! A real Keyway cloud for the Kotlin and Python binding tests: `keyway cloud serve` on a free
//! loopback port with a fresh data directory under `target/cloud-tests/`, killed when the step
//! ends, whatever the outcome.
//!
//! The tests learn where it is from `-Dkeyway.cloud=URL -Dkeyway.cloud.mailbox=DIR` (Kotlin) or
//! `KEYWAY_CLOUD_URL` / `KEYWAY_CLOUD_MAILBOX` (Python): the local mailbox, next to the data
//! directory, holds the e-mails it delivered. Its output goes to `cloud.log` next to
//! the data directory; both are removed after a passing step and kept after a failing one.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::{echo, secs, Ctx, Error, Result};

/// How long the cloud may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The line `keyway cloud serve` prints once it listens, followed by its base URL.
const LISTENING: &str = "Keyway cloud listening on ";

/// A running `keyway cloud serve`; dropping it kills the process.
pub(crate) struct TestCloud {
    child: Child,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    /// Its data directory (SQLite).
    pub(crate) data: PathBuf,
    /// The run's directory: `data/` and `cloud.log`.
    dir: PathBuf,
    /// Copies the cloud's stdout to `cloud.log` until the process ends.
    output: Option<JoinHandle<()>>,
}

impl Ctx {
    /// Builds the `keyway` binary (debug) and starts its cloud for the `step` binding tests.
    pub(crate) fn start_cloud(&self, step: &str) -> Result<TestCloud> {
        // The same build as the `bindings` step's: nothing to do after it.
        self.cargo_run(crate::DEBUG_BUILD)?;
        let keyway = self.target.join("debug").join("keyway");
        if !keyway.is_file() {
            return Err(err!("{} was not built", keyway.display()));
        }
        // Per process: two runs sharing target/ must not share a cloud store.
        let dir = self
            .target
            .join("cloud-tests")
            .join(format!("{step}-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        let data = dir.join("data");
        fs::create_dir_all(&data)?;
        let log_path = dir.join("cloud.log");
        let mut log = File::create(&log_path)?;

        let mut cmd = Command::new(&keyway);
        cmd.current_dir(&self.root)
            .args(["cloud", "serve", "--data"])
            .arg(&data)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log.try_clone()?));
        echo(&cmd);
        let mut child = cmd
            .spawn()
            .map_err(|e| err!("could not start `{}`: {e}", keyway.display()))?;
        let stdout = child.stdout.take();
        let (lines, received) = mpsc::channel::<String>();
        let output = thread::spawn(move || {
            let Some(stdout) = stdout else { return };
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(log, "{line}");
                // The receiver is gone once the URL is known: keep copying to the log.
                let _ = lines.send(line);
            }
        });
        let mut cloud = TestCloud {
            child,
            url: String::new(),
            data,
            dir,
            output: Some(output),
        };
        cloud.url = cloud.wait_for_url(&received, &self.rel(&log_path))?;
        println!(
            "    cloud: {} (pid {}, data {})",
            cloud.url,
            cloud.child.id(),
            self.rel(&cloud.data)
        );
        Ok(cloud)
    }
}

impl TestCloud {
    /// Its local mailbox: the cloud delivers e-mail to `<data>.mailbox`, next to the data
    /// directory (`keyway_cloud::email::mailbox_dir`).
    pub(crate) fn mailbox(&self) -> PathBuf {
        let mut name = self.data.as_os_str().to_os_string();
        name.push(".mailbox");
        PathBuf::from(name)
    }

    /// Waits for the `Keyway cloud listening on URL` line and returns the URL.
    fn wait_for_url(&mut self, received: &mpsc::Receiver<String>, log: &str) -> Result<String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match received.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix(LISTENING) {
                        return Ok(url.trim().to_string());
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(status) = self.child.try_wait()? {
                        return Err(err!(
                            "the cloud exited ({status}) before listening; see {log}"
                        ));
                    }
                    if Instant::now() >= deadline {
                        return Err(err!(
                            "the cloud did not listen within {}; see {log}",
                            secs(START_TIMEOUT)
                        ));
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait()?;
                    return Err(err!(
                        "the cloud exited ({status}) before listening; see {log}"
                    ));
                }
            }
        }
    }

    /// Stops the cloud; removes its directory when the tests `passed`, else says where it is.
    pub(crate) fn finish(mut self, passed: bool, ctx: &Ctx) {
        self.stop();
        if passed {
            // Best effort: a leftover directory only takes space under target/.
            let _ = fs::remove_dir_all(&self.dir);
        } else {
            println!("    cloud data and log kept in {}", ctx.rel(&self.dir));
        }
    }

    /// Kills the process (it has no children) and waits for it and its output thread.
    fn stop(&mut self) {
        // Best effort both: the process may have exited already.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(output) = self.output.take() {
            let _ = output.join();
        }
    }
}

impl Drop for TestCloud {
    fn drop(&mut self) {
        self.stop();
    }
}
