//! Moving a damaged store file out of the way, keeping the newest few for a support case.
//!
//! `keyway-core.sqlite3` becomes `keyway-core.sqlite3.corrupt-<unix seconds>` (with `.<n>`
//! after it if that name is taken), its `-wal` goes along under the matching name (so SQLite
//! still reads the two together) and its `-shm` (an index SQLite rebuilds) is deleted. Only
//! the newest [`KEEP_ASIDE`] copies stay.

use std::io;
use std::path::{Path, PathBuf};

/// How many damaged copies stay next to the store.
pub(super) const KEEP_ASIDE: usize = 2;

/// What goes between the store's file name and the time.
const MARK: &str = ".corrupt-";

/// `path` with `suffix` appended to its file name.
pub(super) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes a database file with its `-wal` and `-shm`; absent files are fine.
pub(super) fn remove_database(path: &Path) -> io::Result<()> {
    for file in [
        path.to_path_buf(),
        with_suffix(path, "-wal"),
        with_suffix(path, "-shm"),
    ] {
        match std::fs::remove_file(&file) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
    }
    Ok(())
}

/// Moves the store file at `path` (and its `-wal`) aside, after deleting the oldest copies so
/// that at most [`KEEP_ASIDE`] remain with this one; returns the new file name.
pub(super) fn move_aside(path: &Path, unix_time: u64) -> io::Result<String> {
    // The new copy sorts after every older one, even within a second or if the clock went
    // back.
    let (time, n) = match copies(path)?.last() {
        Some((time, n, _)) if *time >= unix_time => (*time, n.saturating_add(1)),
        _ => (unix_time, 0),
    };
    prune(path, KEEP_ASIDE.saturating_sub(1))?;
    let target = if n == 0 {
        with_suffix(path, &format!("{MARK}{time}"))
    } else {
        with_suffix(path, &format!("{MARK}{time}.{n}"))
    };
    std::fs::rename(path, &target)?;
    let wal = with_suffix(path, "-wal");
    if wal.exists() {
        std::fs::rename(&wal, with_suffix(&target, "-wal"))?;
    }
    match std::fs::remove_file(with_suffix(path, "-shm")) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    Ok(target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default())
}

/// The copies already aside, oldest first, as `(time, n, path)`.
pub(super) fn copies(path: &Path) -> io::Result<Vec<(u64, u32, PathBuf)>> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{}{MARK}", name.to_string_lossy());
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let Some(stamp) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let (time, n) = stamp.split_once('.').unwrap_or((stamp, "0"));
        if let (Ok(time), Ok(n)) = (time.parse::<u64>(), n.parse::<u32>()) {
            found.push((time, n, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Deletes the oldest copies until at most `keep` remain.
fn prune(path: &Path, keep: usize) -> io::Result<()> {
    let found = copies(path)?;
    let excess = found.len().saturating_sub(keep);
    for (_, _, old) in found.into_iter().take(excess) {
        remove_database(&old)?;
    }
    Ok(())
}
