//! The handshake messages as bytes. Each message starts with a type byte; challenge and
//! request carry the protocol version next.

use crate::command::Command;
use crate::keys::{PUBLIC_KEY_LEN, SIGNATURE_LEN};
use crate::wire::{Reader, Writer};
use crate::ProtocolError;

/// The handshake protocol version.
pub const PROTOCOL_VERSION: u8 = 1;
/// Length of the lock's challenge nonce.
pub const NONCE_LEN: usize = 16;
/// Most mailbox updates one request may carry.
pub const MAX_MAILBOX_UPDATES: usize = 8;
/// Bytes a request takes besides its credential and its mailbox updates.
pub const REQUEST_OVERHEAD_LEN: usize = 2 + NONCE_LEN + PUBLIC_KEY_LEN + 1 + 2 + 1 + SIGNATURE_LEN;
/// Bytes each carried mailbox update adds besides its own (its length prefix).
pub const MAILBOX_ENTRY_OVERHEAD: usize = 2;

/// How many bytes of mailbox entries (updates plus [`MAILBOX_ENTRY_OVERHEAD`] each) a request
/// with a credential of `credential_len` bytes can carry and still be sent at the smallest ATT
/// MTU, so a lock is reachable on any link.
pub fn mailbox_budget(credential_len: usize) -> usize {
    crate::frame::max_message_len(crate::frame::MIN_ATT_MTU)
        .saturating_sub(REQUEST_OVERHEAD_LEN + credential_len)
}

/// Message type codes.
pub mod kind {
    /// Lock → phone, on connect.
    pub const CHALLENGE: u8 = 1;
    /// Phone → lock.
    pub const REQUEST: u8 = 2;
    /// Lock → phone, sealed with the session key.
    pub const RESPONSE: u8 = 3;
    /// Lock → phone, in clear, when the request could not be read.
    pub const ABORT: u8 = 4;
}

/// What the lock sends on connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The lock's id (also in its advertisement).
    pub lock_id: u32,
    /// Fresh random nonce for this connection.
    pub nonce: [u8; NONCE_LEN],
    /// The lock's ephemeral ECDH public key for this connection.
    pub ephemeral_key: [u8; PUBLIC_KEY_LEN],
}

impl Challenge {
    /// Encoded length.
    pub const LEN: usize = 2 + 4 + NONCE_LEN + PUBLIC_KEY_LEN;

    /// Encodes the message.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(Self::LEN);
        w.u8(kind::CHALLENGE)
            .u8(PROTOCOL_VERSION)
            .u32(self.lock_id)
            .bytes(&self.nonce)
            .bytes(&self.ephemeral_key);
        w.into_vec()
    }

    /// Decodes the message.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes);
        expect_kind(&mut r, kind::CHALLENGE, "challenge")?;
        expect_version(&mut r)?;
        let challenge = Self {
            lock_id: r.u32("lock id")?,
            nonce: r.array("nonce")?,
            ephemeral_key: r.array("lock ephemeral key")?,
        };
        r.finish("challenge")?;
        Ok(challenge)
    }
}

/// What the phone sends back: the signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The challenge nonce this request answers.
    pub echoed_nonce: [u8; NONCE_LEN],
    /// The phone's ephemeral ECDH public key.
    pub ephemeral_key: [u8; PUBLIC_KEY_LEN],
    /// What the phone asks for.
    pub command: Command,
    /// The signed credential bytes.
    pub credential: Vec<u8>,
    /// Signed mailbox updates the phone carries for the lock.
    pub mailbox: Vec<Vec<u8>>,
    /// Device-key signature over the transcript.
    pub signature: [u8; SIGNATURE_LEN],
}

impl Request {
    /// Encodes everything but the signature: the part the transcript covers.
    pub fn encode_unsigned(
        echoed_nonce: &[u8; NONCE_LEN],
        ephemeral_key: &[u8; PUBLIC_KEY_LEN],
        command: Command,
        credential: &[u8],
        mailbox: &[Vec<u8>],
    ) -> Result<Vec<u8>, ProtocolError> {
        if mailbox.len() > MAX_MAILBOX_UPDATES {
            return Err(ProtocolError::TooLong("mailbox"));
        }
        let mut w = Writer::with_capacity(
            2 + NONCE_LEN + PUBLIC_KEY_LEN + 3 + credential.len() + 1 + SIGNATURE_LEN,
        );
        w.u8(kind::REQUEST)
            .u8(PROTOCOL_VERSION)
            .bytes(echoed_nonce)
            .bytes(ephemeral_key)
            .u8(command.code());
        w.prefixed(credential, "credential")?;
        w.u8(u8::try_from(mailbox.len()).map_err(|_| ProtocolError::TooLong("mailbox"))?);
        for update in mailbox {
            w.prefixed(update, "mailbox update")?;
        }
        Ok(w.into_vec())
    }

    /// Encodes the whole message.
    pub fn encode(&self) -> Result<Vec<u8>, ProtocolError> {
        let mut bytes = Self::encode_unsigned(
            &self.echoed_nonce,
            &self.ephemeral_key,
            self.command,
            &self.credential,
            &self.mailbox,
        )?;
        bytes.extend_from_slice(&self.signature);
        Ok(bytes)
    }

    /// Decodes the message; returns it with the length of its unsigned part.
    pub fn decode(bytes: &[u8]) -> Result<(Self, usize), ProtocolError> {
        let mut r = Reader::new(bytes);
        expect_kind(&mut r, kind::REQUEST, "request")?;
        expect_version(&mut r)?;
        let echoed_nonce = r.array("echoed nonce")?;
        let ephemeral_key = r.array("phone ephemeral key")?;
        let command = Command::from_code(r.u8("command")?)?;
        let credential_len = usize::from(r.u16("credential length")?);
        let credential = r.take(credential_len, "credential")?.to_vec();
        let mailbox_count = usize::from(r.u8("mailbox count")?);
        if mailbox_count > MAX_MAILBOX_UPDATES {
            return Err(ProtocolError::TooLong("mailbox"));
        }
        let mailbox = (0..mailbox_count)
            .map(|_| {
                let len = usize::from(r.u16("mailbox update length")?);
                Ok(r.take(len, "mailbox update")?.to_vec())
            })
            .collect::<Result<Vec<_>, ProtocolError>>()?;
        let unsigned_len = r.position();
        let signature = r.array("request signature")?;
        r.finish("request")?;
        let request = Self {
            echoed_nonce,
            ephemeral_key,
            command,
            credential,
            mailbox,
            signature,
        };
        Ok((request, unsigned_len))
    }
}

fn expect_kind(r: &mut Reader<'_>, expected: u8, what: &'static str) -> Result<(), ProtocolError> {
    if r.u8("message type")? == expected {
        Ok(())
    } else {
        Err(ProtocolError::UnexpectedMessage(what))
    }
}

fn expect_version(r: &mut Reader<'_>) -> Result<(), ProtocolError> {
    match r.u8("protocol version")? {
        PROTOCOL_VERSION => Ok(()),
        found => Err(ProtocolError::UnsupportedVersion {
            what: "protocol",
            found,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{fragment, MIN_ATT_MTU};

    #[test]
    fn a_request_filling_the_mailbox_budget_fits_the_smallest_mtu() {
        let credential = vec![3; 173];
        let budget = mailbox_budget(credential.len());
        // Three updates filling the budget exactly.
        let each = budget / 3 - MAILBOX_ENTRY_OVERHEAD;
        let last = budget - 2 * (each + MAILBOX_ENTRY_OVERHEAD) - MAILBOX_ENTRY_OVERHEAD;
        let mailbox = vec![vec![1; each], vec![2; each], vec![4; last]];
        let request = |mailbox: Vec<Vec<u8>>| Request {
            echoed_nonce: [5; NONCE_LEN],
            ephemeral_key: [6; PUBLIC_KEY_LEN],
            command: Command::Unlock,
            credential: credential.clone(),
            mailbox,
            signature: [7; SIGNATURE_LEN],
        };
        let full = request(mailbox.clone()).encode().unwrap();
        assert_eq!(full.len(), REQUEST_OVERHEAD_LEN + credential.len() + budget);
        assert!(fragment(&full, MIN_ATT_MTU).is_ok());
        let mut over = mailbox;
        over[2].push(0);
        let too_long = request(over).encode().unwrap();
        assert!(
            fragment(&too_long, MIN_ATT_MTU).is_err(),
            "one byte more does not fit"
        );
    }
}
