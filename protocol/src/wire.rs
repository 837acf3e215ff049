//! Byte-level reading and writing for the binary formats, with no panics on short input.

use ring::rand::SecureRandom;

use crate::credential::MAX_WINDOWS_PER_CREDENTIAL;
use crate::keys::{PublicKey, SigningKey, SIGNATURE_LEN};
use crate::schedule::ScheduleWindow;
use crate::ProtocolError;

/// Reads big-endian fields from a byte slice, failing cleanly when the input runs short.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    /// How many bytes have been consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.position
    }

    /// Takes the next `len` bytes.
    pub(crate) fn take(
        &mut self,
        len: usize,
        what: &'static str,
    ) -> Result<&'a [u8], ProtocolError> {
        let end = self
            .position
            .checked_add(len)
            .ok_or(ProtocolError::Truncated(what))?;
        let slice = self
            .bytes
            .get(self.position..end)
            .ok_or(ProtocolError::Truncated(what))?;
        self.position = end;
        Ok(slice)
    }

    /// Takes the next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], ProtocolError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, ProtocolError> {
        Ok(u8::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, ProtocolError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, ProtocolError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, ProtocolError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn i64(&mut self, what: &'static str) -> Result<i64, ProtocolError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    /// Fails unless every byte has been consumed: trailing bytes are a malformed message.
    pub(crate) fn finish(&self, what: &'static str) -> Result<(), ProtocolError> {
        if self.position == self.bytes.len() {
            Ok(())
        } else {
            Err(ProtocolError::TrailingBytes(what))
        }
    }
}

/// Appends big-endian fields to a growing buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    /// An empty writer with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(capacity),
        }
    }

    pub(crate) fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(value);
        self
    }

    pub(crate) fn u8(&mut self, value: u8) -> &mut Self {
        self.bytes(&[value])
    }

    pub(crate) fn u16(&mut self, value: u16) -> &mut Self {
        self.bytes(&value.to_be_bytes())
    }

    pub(crate) fn u32(&mut self, value: u32) -> &mut Self {
        self.bytes(&value.to_be_bytes())
    }

    pub(crate) fn u64(&mut self, value: u64) -> &mut Self {
        self.bytes(&value.to_be_bytes())
    }

    pub(crate) fn i64(&mut self, value: i64) -> &mut Self {
        self.bytes(&value.to_be_bytes())
    }

    /// A `u16` length prefix followed by the bytes; fails if they do not fit the prefix.
    pub(crate) fn prefixed(
        &mut self,
        value: &[u8],
        what: &'static str,
    ) -> Result<&mut Self, ProtocolError> {
        let len = u16::try_from(value.len()).map_err(|_| ProtocolError::TooLong(what))?;
        Ok(self.u16(len).bytes(value))
    }

    /// The bytes written so far.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.bytes
    }
}

/// Writes a `u8` count and the weekly windows, each checked first.
pub(crate) fn write_windows(
    w: &mut Writer,
    windows: &[ScheduleWindow],
    what: &'static str,
) -> Result<(), ProtocolError> {
    if windows.len() > MAX_WINDOWS_PER_CREDENTIAL {
        return Err(ProtocolError::TooLong(what));
    }
    windows.iter().try_for_each(ScheduleWindow::validate)?;
    w.u8(u8::try_from(windows.len()).map_err(|_| ProtocolError::TooLong(what))?);
    for window in windows {
        w.u8(window.days)
            .u16(window.start_minute)
            .u16(window.end_minute);
    }
    Ok(())
}

/// Reads what [`write_windows`] wrote, checking each window.
pub(crate) fn read_windows(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Vec<ScheduleWindow>, ProtocolError> {
    let count = usize::from(r.u8("window count")?);
    if count > MAX_WINDOWS_PER_CREDENTIAL {
        return Err(ProtocolError::TooLong(what));
    }
    (0..count)
        .map(|_| {
            ScheduleWindow::new(
                r.u8("window days")?,
                r.u16("window start")?,
                r.u16("window end")?,
            )
        })
        .collect()
}

/// Signs `label || body` with the site authority and appends the signature.
pub(crate) fn seal_signed(
    mut body: Writer,
    label: &[u8],
    authority: &SigningKey,
    rng: &dyn SecureRandom,
) -> Result<Vec<u8>, ProtocolError> {
    let signature = authority.sign(&[label, body.as_slice()].concat(), rng)?;
    body.bytes(&signature);
    Ok(body.into_vec())
}

/// The body of an authority-signed message, once `label || body` verifies.
pub(crate) fn open_signed<'a>(
    bytes: &'a [u8],
    label: &[u8],
    authority: &PublicKey,
    what: &'static str,
) -> Result<&'a [u8], ProtocolError> {
    let (body, signature) = bytes
        .len()
        .checked_sub(SIGNATURE_LEN)
        .and_then(|split| bytes.get(..split).zip(bytes.get(split..)))
        .ok_or(ProtocolError::Truncated(what))?;
    if !authority.verify(&[label, body].concat(), signature) {
        return Err(ProtocolError::BadSignature(what));
    }
    Ok(body)
}

/// The big-endian `u32` at `offset`, read without checking anything else (to route a signed
/// message by the lock it names; the lock checks the signature).
pub(crate) fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    bytes
        .get(offset..offset.checked_add(4)?)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
}
