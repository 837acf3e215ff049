//! Where the key-encryption key comes from: a key file (made at the first start, mode 0600,
//! next to the data directory and never inside it) or the `KEYWAY_CLOUD_KEY` environment
//! variable. Both hold 32 random bytes, as base64 (a key file may also hold them raw).

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::seal::{Kek, KEY_LEN};
use super::StoreError;

/// The environment variable that holds the key (base64 of 32 bytes); it wins over a key file.
pub const KEY_ENV: &str = "KEYWAY_CLOUD_KEY";

/// Where the key-encryption key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A key file: 32 random bytes, base64 or raw. Made (mode 0600) for a database that has
    /// no sealed data yet; refused when readable by group or others.
    File(PathBuf),
    /// The [`KEY_ENV`] environment variable, read at start.
    Env,
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => write!(f, "key file {}", path.display()),
            Self::Env => write!(f, "environment variable {KEY_ENV}"),
        }
    }
}

/// The default key file of a data directory: its sibling `<data_dir>.key`
/// (`/var/lib/keyway` → `/var/lib/keyway.key`), so a copy of the directory holds no key.
pub fn default_key_file(data_dir: &Path) -> PathBuf {
    next_to(data_dir, ".key")
}

/// The sibling of the data directory named after it with `suffix` (`/var/lib/keyway` →
/// `/var/lib/keyway.key`): outside the directory, whatever form it was given in (`.`, `..`,
/// a trailing slash), so a copy of the data directory never holds it.
pub fn next_to(data_dir: &Path, suffix: &str) -> PathBuf {
    let absolute = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    // `.` and `..` have no file name of their own: name the directory they stand for.
    let absolute = absolute.canonicalize().unwrap_or(absolute);
    match absolute.file_name() {
        Some(name) => {
            let mut file = name.to_os_string();
            file.push(suffix);
            absolute.with_file_name(file)
        }
        None => {
            let mut path = absolute.into_os_string();
            path.push(suffix);
            PathBuf::from(path)
        }
    }
}

impl KeySource {
    /// The key file for `data_dir`: `key_file` if given, else [`default_key_file`].
    pub fn file_for(data_dir: &Path, key_file: Option<PathBuf>) -> Self {
        Self::File(key_file.unwrap_or_else(|| default_key_file(data_dir)))
    }

    /// [`KeySource::Env`] when [`KEY_ENV`] is set, else [`KeySource::file_for`].
    pub fn from_env_or_file(data_dir: &Path, key_file: Option<PathBuf>) -> Self {
        match std::env::var_os(KEY_ENV) {
            Some(value) if !value.is_empty() => Self::Env,
            _ => Self::file_for(data_dir, key_file),
        }
    }

    /// The key, or `None` when the file or variable does not exist.
    pub fn load(&self) -> Result<Option<Kek>, StoreError> {
        let bytes = match self {
            Self::Env => match std::env::var(KEY_ENV) {
                Ok(text) if !text.is_empty() => Some(text.into_bytes()),
                Ok(_) | Err(std::env::VarError::NotPresent) => None,
                Err(std::env::VarError::NotUnicode(_)) => return Err(self.bad_key()),
            },
            Self::File(path) => read_key_file(path, self)?,
        };
        bytes
            .map(|bytes| {
                let key = parse_key(&bytes).ok_or_else(|| self.bad_key())?;
                Kek::from_bytes(&key).map_err(|_| self.bad_key())
            })
            .transpose()
    }

    /// The key, making a key file when there is none (never for [`KeySource::Env`]).
    pub fn load_or_create(&self) -> Result<Kek, StoreError> {
        if let Some(kek) = self.load()? {
            return Ok(kek);
        }
        match self {
            Self::File(path) => create_key_file(path),
            Self::Env => Err(StoreError::MissingKey {
                key: self.to_string(),
            }),
        }
    }

    fn bad_key(&self) -> StoreError {
        StoreError::BadKey {
            key: self.to_string(),
        }
    }
}

/// 32 raw bytes, or base64 of 32 bytes (surrounding whitespace ignored).
fn parse_key(bytes: &[u8]) -> Option<[u8; KEY_LEN]> {
    if let Ok(raw) = <[u8; KEY_LEN]>::try_from(bytes) {
        // Raw bytes, unless they are base64 text that happens to be 32 bytes long (it never
        // is: base64 of 32 bytes is 44 characters).
        return Some(raw);
    }
    let text = std::str::from_utf8(bytes).ok()?.trim();
    let decoded = STANDARD.decode(text).ok()?;
    <[u8; KEY_LEN]>::try_from(decoded.as_slice()).ok()
}

fn read_key_file(path: &Path, source: &KeySource) -> Result<Option<Vec<u8>>, StoreError> {
    let io_error = |error| StoreError::KeyFile {
        key_file: path.display().to_string(),
        source: error,
    };
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error(error)),
    };
    if !metadata.is_file() {
        return Err(source.bad_key());
    }
    check_private(path, &metadata)?;
    std::fs::read(path).map(Some).map_err(io_error)
}

#[cfg(unix)]
fn check_private(path: &Path, metadata: &std::fs::Metadata) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(StoreError::KeyFileNotPrivate {
            key_file: path.display().to_string(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _metadata: &std::fs::Metadata) -> Result<(), StoreError> {
    Ok(())
}

/// Writes a new random key to `path` (which must not exist), readable by its owner only.
pub(super) fn create_key_file(path: &Path) -> Result<Kek, StoreError> {
    let io_error = |error| StoreError::KeyFile {
        key_file: path.display().to_string(),
        source: error,
    };
    let bytes = Kek::random_bytes().map_err(StoreError::Seal)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io_error)?;
    let mut text = STANDARD.encode(bytes);
    text.push('\n');
    file.write_all(text.as_bytes()).map_err(io_error)?;
    file.sync_all().map_err(io_error)?;
    tracing::info!(key_file = %path.display(), "made a new key-encryption key");
    Kek::from_bytes(&bytes).map_err(StoreError::Seal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_key_file_is_next_to_the_data_directory_not_in_it() {
        assert_eq!(
            default_key_file(Path::new("/var/lib/keyway")),
            PathBuf::from("/var/lib/keyway.key")
        );
        assert_eq!(
            default_key_file(Path::new("/var/lib/keyway/")),
            PathBuf::from("/var/lib/keyway.key")
        );
        let relative = default_key_file(Path::new("data"));
        assert!(relative.is_absolute() && relative.ends_with("data.key"));
    }

    #[test]
    fn keys_are_read_as_base64_or_raw_and_nothing_else() {
        let key = [7u8; KEY_LEN];
        assert_eq!(parse_key(&key), Some(key));
        let text = format!("  {}\n", STANDARD.encode(key));
        assert_eq!(parse_key(text.as_bytes()), Some(key));
        assert_eq!(parse_key(STANDARD.encode([7u8; 16]).as_bytes()), None);
        assert_eq!(parse_key(b"not a key"), None);
        assert_eq!(parse_key(&[7u8; 33]), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_new_key_file_is_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cloud.key");
        let source = KeySource::File(path.clone());
        assert!(source.load().unwrap().is_none());
        source.load_or_create().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let written = std::fs::read(&path).unwrap();
        assert!(matches!(
            create_key_file(&path),
            Err(StoreError::KeyFile { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), written);
    }
}
