//! The live channel (`GET /api/v1/live`): small typed notices from the cloud to a signed-in
//! phone while its app is in the foreground, as a server-sent event stream
//! (`text/event-stream`). A notice says *what* changed, never the change itself: the phone
//! then syncs that part over the usual endpoints. Notices are idempotent (two "keys changed"
//! mean one sync), and after any reconnect the phone syncs once, so a notice lost while it was
//! away costs nothing.
//!
//! The stream opens with a [`LiveNotice::Hello`] naming the stream and the time its access
//! token runs out; the phone renews it in place with `POST /api/v1/live/{stream_id}/renew`
//! and its new token, or the cloud ends the stream then ([`LiveNotice::TokenExpired`]).
//!
//! [`SseDecoder`] reads the stream (sans-IO: bytes in, notices out), so the core, a test or
//! another client parse it the same way.

use serde::{Deserialize, Serialize};

/// One notice on the live channel, as the `data:` of one server-sent event (JSON, tagged by
/// `type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveNotice {
    /// The first event of every stream.
    Hello {
        /// This stream, for renewing it.
        stream_id: u64,
        /// When the stream ends unless renewed (Unix seconds): the access token's expiry.
        renew_by: i64,
    },
    /// The person's digital keys changed (granted, revoked, schedule): sync the wallet.
    KeysChanged,
    /// The person's pods changed (membership, guests, locks).
    PodsChanged,
    /// What the person may open remotely changed.
    RemoteRightsChanged,
    /// A site revoked keys: locks of that site should get its denylist (the wallet sync
    /// carries it).
    DenylistChanged {
        /// The site.
        site_id: u32,
    },
    /// Notices were dropped (the phone read too slowly): sync everything once.
    Resync,
    /// The access token ran out without a renewal: refresh it and reconnect.
    TokenExpired,
}

/// The SSE `event:` name every notice travels under.
pub const NOTICE_EVENT: &str = "notice";

/// The largest event the decoder holds (a notice is well under 200 bytes): a stream that
/// sends a longer line is cut off rather than allowed to grow memory.
pub const MAX_EVENT_BYTES: usize = 4_096;

/// Why a live stream could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// An event longer than [`MAX_EVENT_BYTES`].
    #[error("a live event is longer than {MAX_EVENT_BYTES} bytes")]
    TooLong,
}

/// Reads a `text/event-stream` body chunk by chunk into notices. Comment lines (`:` keep-alive
/// pings) and unknown event names are skipped; a `notice` whose JSON this build does not know
/// (a newer cloud) is skipped too, so an old app keeps working.
#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    event: Option<String>,
    data: String,
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes of the stream; returns the notices they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<LiveNotice>, SseError> {
        let mut notices = Vec::new();
        for &byte in bytes {
            if byte != b'\n' {
                if self.line.len() >= MAX_EVENT_BYTES {
                    return Err(SseError::TooLong);
                }
                self.line.push(byte);
                continue;
            }
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if let Some(notice) = self.end_line(&line)? {
                notices.push(notice);
            }
        }
        Ok(notices)
    }

    fn end_line(&mut self, line: &[u8]) -> Result<Option<LiveNotice>, SseError> {
        if line.is_empty() {
            // A blank line dispatches the event.
            let event = self.event.take();
            let data = std::mem::take(&mut self.data);
            let is_notice = event.as_deref().is_none_or(|name| name == NOTICE_EVENT);
            if !is_notice || data.is_empty() {
                return Ok(None);
            }
            return Ok(serde_json::from_str(&data).ok());
        }
        if line.first() == Some(&b':') {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_ref(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                if self.data.len() + value.len() > MAX_EVENT_BYTES {
                    return Err(SseError::TooLong);
                }
                self.data.push_str(value);
            }
            _ => {}
        }
        Ok(None)
    }
}

/// A notice as one server-sent event (what the cloud writes; the tests and other servers may
/// use it too).
pub fn encode_event(notice: &LiveNotice) -> String {
    let data = serde_json::to_string(notice).unwrap_or_default();
    format!("event: {NOTICE_EVENT}\ndata: {data}\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_come_out_whatever_the_chunking_with_pings_and_crlf() {
        let notices = [
            LiveNotice::Hello {
                stream_id: 7,
                renew_by: 1_700_000_000,
            },
            LiveNotice::KeysChanged,
            LiveNotice::DenylistChanged { site_id: 3 },
            LiveNotice::Resync,
        ];
        let mut stream = String::from(": ping\n\n");
        for notice in &notices {
            stream.push_str(&encode_event(notice));
            stream.push_str(":\r\n\r\n");
        }
        let stream = stream.replace(
            "data: {\"type\":\"keys_changed\"}\n",
            "data: {\"type\":\"keys_changed\"}\r\n",
        );
        for chunk in [1, 2, 3, 7, 64, stream.len()] {
            let mut decoder = SseDecoder::new();
            let mut seen = Vec::new();
            for piece in stream.as_bytes().chunks(chunk) {
                seen.extend(decoder.feed(piece).unwrap());
            }
            assert_eq!(seen, notices, "chunks of {chunk}");
        }
    }

    #[test]
    fn unknown_events_and_notices_from_a_newer_cloud_are_skipped() {
        let mut decoder = SseDecoder::new();
        let stream = "event: other\ndata: {\"type\":\"keys_changed\"}\n\n\
                      data: {\"type\":\"from_the_future\"}\n\n\
                      data: {\"type\":\"pods_changed\"}\n\n";
        assert_eq!(
            decoder.feed(stream.as_bytes()).unwrap(),
            [LiveNotice::PodsChanged]
        );
    }

    #[test]
    fn a_stream_that_never_ends_a_line_is_cut_off() {
        let mut decoder = SseDecoder::new();
        let endless = vec![b'a'; MAX_EVENT_BYTES + 1];
        assert_eq!(decoder.feed(&endless), Err(SseError::TooLong));
    }
}
