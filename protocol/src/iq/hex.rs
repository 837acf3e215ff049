//! Binary values inside the IQ's JSON messages, written as lowercase hex strings.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that travel as a hex string. `Debug` shows only the length: these bytes may be
/// secrets (IQ code secrets, keypad keys).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct HexBytes(pub Vec<u8>);

impl HexBytes {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Takes the bytes out.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl From<Vec<u8>> for HexBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl From<&[u8]> for HexBytes {
    fn from(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }
}

impl std::fmt::Debug for HexBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HexBytes({} bytes)", self.0.len())
    }
}

const DIGITS: &[u8; 16] = b"0123456789abcdef";

impl Serialize for HexBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = String::with_capacity(self.0.len() * 2);
        for byte in &self.0 {
            for nibble in [byte >> 4, byte & 0x0f] {
                text.push(char::from(
                    *DIGITS.get(usize::from(nibble)).unwrap_or(&b'0'),
                ));
            }
        }
        serializer.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let value = |c: u8| -> Result<u8, D::Error> {
            match c {
                b'0'..=b'9' => Ok(c - b'0'),
                b'a'..=b'f' => Ok(c - b'a' + 10),
                b'A'..=b'F' => Ok(c - b'A' + 10),
                _ => Err(D::Error::custom("not a hex string")),
            }
        };
        if text.len() % 2 != 0 {
            return Err(D::Error::custom("odd-length hex string"));
        }
        text.as_bytes()
            .chunks_exact(2)
            .map(|pair| match pair {
                [high, low] => Ok(value(*high)? << 4 | value(*low)?),
                _ => Err(D::Error::custom("not a hex string")),
            })
            .collect::<Result<Vec<u8>, _>>()
            .map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_as_hex_and_debug_hides_them() {
        let bytes = HexBytes(vec![0x00, 0x7f, 0xab, 0xff]);
        let json = serde_json::to_string(&bytes).unwrap();
        assert_eq!(json, "\"007fabff\"");
        assert_eq!(serde_json::from_str::<HexBytes>(&json).unwrap(), bytes);
        assert_eq!(
            serde_json::from_str::<HexBytes>("\"007FABFF\"").unwrap(),
            bytes
        );
        assert!(serde_json::from_str::<HexBytes>("\"abc\"").is_err());
        assert!(serde_json::from_str::<HexBytes>("\"zz\"").is_err());
        assert_eq!(format!("{bytes:?}"), "HexBytes(4 bytes)");
    }
}
