//! BLE framing: a message is cut into fragments that each fit one ATT write or notification,
//! and put back together on the other side with length and version checks.
//!
//! Fragment layout: `version u8 | index u8 (bit 7 = last) | [total_len u16, first only] | data`.
//! One ATT write carries `MTU - 3` bytes.

use crate::ProtocolError;

/// The framing version.
pub const FRAME_VERSION: u8 = 1;
/// ATT header bytes taken from each write or notification.
pub const ATT_HEADER_LEN: usize = 3;
/// The smallest ATT MTU BLE allows.
pub const MIN_ATT_MTU: usize = 23;
/// Largest message a reassembler accepts.
pub const MAX_MESSAGE_LEN: usize = 4096;
const LAST_FRAGMENT: u8 = 0x80;
const HEADER_LEN: usize = 2;
const FIRST_HEADER_LEN: usize = HEADER_LEN + 2;
const MAX_FRAGMENTS: usize = 0x80;

/// The longest message that can be sent at an ATT MTU of `mtu` bytes (0 below the minimum):
/// the fragment count and [`MAX_MESSAGE_LEN`] both limit it.
pub fn max_message_len(mtu: usize) -> usize {
    if mtu < MIN_ATT_MTU {
        return 0;
    }
    let payload = mtu - ATT_HEADER_LEN;
    let fragmented = (payload - FIRST_HEADER_LEN) + (MAX_FRAGMENTS - 1) * (payload - HEADER_LEN);
    fragmented.min(MAX_MESSAGE_LEN)
}

/// Cuts `message` into fragments for an ATT MTU of `mtu` bytes.
pub fn fragment(message: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>, ProtocolError> {
    if mtu < MIN_ATT_MTU {
        return Err(ProtocolError::Invalid("ATT MTU below 23"));
    }
    if message.is_empty() {
        return Err(ProtocolError::Invalid("empty message"));
    }
    if message.len() > MAX_MESSAGE_LEN {
        return Err(ProtocolError::TooLong("message"));
    }
    let payload = mtu - ATT_HEADER_LEN;
    let total = u16::try_from(message.len()).map_err(|_| ProtocolError::TooLong("message"))?;
    let mut fragments = Vec::new();
    let mut rest = message;
    let mut index: u8 = 0;
    loop {
        let header = if index == 0 {
            FIRST_HEADER_LEN
        } else {
            HEADER_LEN
        };
        let take = rest.len().min(payload - header);
        let (chunk, tail) = rest.split_at(take);
        rest = tail;
        let marker = if rest.is_empty() {
            index | LAST_FRAGMENT
        } else {
            index
        };
        let mut fragment = Vec::with_capacity(header + chunk.len());
        fragment.extend_from_slice(&[FRAME_VERSION, marker]);
        if index == 0 {
            fragment.extend_from_slice(&total.to_be_bytes());
        }
        fragment.extend_from_slice(chunk);
        fragments.push(fragment);
        if rest.is_empty() {
            return Ok(fragments);
        }
        index = index
            .checked_add(1)
            .ok_or(ProtocolError::TooLong("message"))?;
        if usize::from(index) >= MAX_FRAGMENTS {
            return Err(ProtocolError::TooLong("message"));
        }
    }
}

/// How many bytes go over the air, fragment headers included, for a message at this MTU.
pub fn framed_len(message_len: usize, mtu: usize) -> Result<usize, ProtocolError> {
    let fragments = fragment(&vec![0; message_len], mtu)?;
    Ok(fragments.iter().map(Vec::len).sum())
}

/// Puts fragments back together into one message.
#[derive(Debug, Default)]
pub struct Reassembler {
    expected_len: Option<usize>,
    next_index: u8,
    buffer: Vec<u8>,
}

impl Reassembler {
    /// A reassembler waiting for the first fragment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one fragment. Returns the whole message once its last fragment arrived.
    ///
    /// Any error leaves the reassembler reset: the message is lost, the link must restart.
    pub fn push(&mut self, fragment: &[u8]) -> Result<Option<Vec<u8>>, ProtocolError> {
        let result = self.push_inner(fragment);
        if !matches!(result, Ok(None)) {
            *self = Self::default();
        }
        result
    }

    fn push_inner(&mut self, fragment: &[u8]) -> Result<Option<Vec<u8>>, ProtocolError> {
        let (&version, rest) = fragment
            .split_first()
            .ok_or(ProtocolError::Truncated("frame"))?;
        if version != FRAME_VERSION {
            return Err(ProtocolError::UnsupportedVersion {
                what: "frame",
                found: version,
            });
        }
        let (&marker, mut data) = rest
            .split_first()
            .ok_or(ProtocolError::Truncated("frame"))?;
        let index = marker & !LAST_FRAGMENT;
        let last = marker & LAST_FRAGMENT != 0;
        if index != self.next_index {
            return Err(ProtocolError::Invalid("fragment out of order"));
        }
        if index == 0 {
            let (len_bytes, tail) = data
                .split_at_checked(2)
                .ok_or(ProtocolError::Truncated("frame length"))?;
            let len_bytes: [u8; 2] = len_bytes
                .try_into()
                .map_err(|_| ProtocolError::Truncated("frame length"))?;
            let len = usize::from(u16::from_be_bytes(len_bytes));
            if len == 0 || len > MAX_MESSAGE_LEN {
                return Err(ProtocolError::Invalid("frame length"));
            }
            self.expected_len = Some(len);
            self.buffer.reserve(len);
            data = tail;
        }
        let expected = self
            .expected_len
            .ok_or(ProtocolError::Invalid("frame state"))?;
        if data.is_empty() {
            return Err(ProtocolError::Invalid("empty fragment"));
        }
        if self.buffer.len() + data.len() > expected {
            return Err(ProtocolError::Invalid(
                "fragments longer than the announced length",
            ));
        }
        self.buffer.extend_from_slice(data);
        let complete = self.buffer.len() == expected;
        match (last, complete) {
            (true, true) => Ok(Some(std::mem::take(&mut self.buffer))),
            (true, false) => Err(ProtocolError::Invalid(
                "last fragment before the announced length",
            )),
            (false, true) => Err(ProtocolError::Invalid(
                "announced length reached before the last fragment",
            )),
            (false, false) => {
                self.next_index = index.wrapping_add(1);
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_many_mtus() {
        let message: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for mtu in [23, 27, 100, 185, 247, 517] {
            let fragments = fragment(&message, mtu).unwrap();
            assert!(fragments.iter().all(|f| f.len() <= mtu - ATT_HEADER_LEN));
            let mut reassembler = Reassembler::new();
            let (last, init) = fragments.split_last().unwrap();
            for f in init {
                assert_eq!(reassembler.push(f).unwrap(), None);
            }
            assert_eq!(reassembler.push(last).unwrap(), Some(message.clone()));
        }
    }

    #[test]
    fn max_message_len_is_what_fragment_accepts() {
        for mtu in [23, 24, 50, 185, 517] {
            let longest = max_message_len(mtu);
            assert!(fragment(&vec![1; longest], mtu).is_ok(), "mtu {mtu}");
            assert!(fragment(&vec![1; longest + 1], mtu).is_err(), "mtu {mtu}");
        }
        assert_eq!(max_message_len(23), 2302);
        assert_eq!(max_message_len(517), MAX_MESSAGE_LEN);
        assert_eq!(max_message_len(22), 0);
    }

    #[test]
    fn a_358_byte_message_fits_two_writes_at_mtu_185() {
        assert_eq!(fragment(&[7; 358], 185).unwrap().len(), 2);
        assert_eq!(fragment(&[7; 359], 185).unwrap().len(), 3);
    }

    #[test]
    fn wrong_version_order_and_length_are_refused() {
        let fragments = fragment(&[1; 400], 185).unwrap();
        let mut bad_version = fragments[0].clone();
        bad_version[0] = 9;
        assert!(matches!(
            Reassembler::new().push(&bad_version),
            Err(ProtocolError::UnsupportedVersion { found: 9, .. })
        ));
        let mut reassembler = Reassembler::new();
        assert!(
            reassembler.push(&fragments[1]).is_err(),
            "second fragment first"
        );
        let mut reassembler = Reassembler::new();
        reassembler.push(&fragments[0]).unwrap();
        assert!(
            reassembler.push(&fragments[0]).is_err(),
            "duplicated first fragment"
        );
        let mut short = fragments[0].clone();
        short[1] |= LAST_FRAGMENT;
        assert!(
            Reassembler::new().push(&short).is_err(),
            "last flag before the length"
        );
        let mut long = fragments[2].clone();
        long.push(0);
        let mut reassembler = Reassembler::new();
        reassembler.push(&fragments[0]).unwrap();
        reassembler.push(&fragments[1]).unwrap();
        assert!(
            reassembler.push(&long).is_err(),
            "extra byte past the length"
        );
        assert!(Reassembler::new().push(&[FRAME_VERSION]).is_err());
        assert!(Reassembler::new().push(&[]).is_err());
    }

    #[test]
    fn an_error_resets_so_the_next_message_works() {
        let mut reassembler = Reassembler::new();
        assert!(reassembler.push(&[FRAME_VERSION, 0x80, 0, 0]).is_err());
        let fragments = fragment(b"hello", 185).unwrap();
        assert_eq!(
            reassembler.push(&fragments[0]).unwrap(),
            Some(b"hello".to_vec())
        );
    }

    #[test]
    fn tiny_mtu_and_empty_messages_are_refused() {
        assert!(fragment(b"x", 22).is_err());
        assert!(fragment(b"", 185).is_err());
        assert!(fragment(&vec![0; MAX_MESSAGE_LEN + 1], 185).is_err());
    }
}
