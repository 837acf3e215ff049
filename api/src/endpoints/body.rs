//! How request bodies are encoded and response bodies decoded. Any serde type travels as
//! JSON; the few other kinds have their own types: [`NoBody`], [`CsvFile`], [`Form`],
//! [`NoContent`], [`TextBody`], [`EventStream`].

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::EndpointError;

/// A request body ready to send: its content type and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The `Content-Type` header.
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// What a call sends.
pub trait RequestBody {
    /// The body to send, or none.
    fn encode(&self) -> Result<Option<Encoded>, EndpointError>;
}

/// A JSON body.
impl<T: Serialize> RequestBody for T {
    fn encode(&self) -> Result<Option<Encoded>, EndpointError> {
        let bytes = serde_json::to_vec(self).map_err(|e| EndpointError::Encode(e.to_string()))?;
        Ok(Some(Encoded {
            content_type: "application/json",
            bytes,
        }))
    }
}

/// A call without a body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoBody;

impl RequestBody for NoBody {
    fn encode(&self) -> Result<Option<Encoded>, EndpointError> {
        Ok(None)
    }
}

/// A CSV file sent as it is (`text/csv`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CsvFile(pub Vec<u8>);

impl std::fmt::Debug for CsvFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CsvFile({} bytes)", self.0.len())
    }
}

impl RequestBody for CsvFile {
    fn encode(&self) -> Result<Option<Encoded>, EndpointError> {
        Ok(Some(Encoded {
            content_type: "text/csv",
            bytes: self.0.clone(),
        }))
    }
}

/// An HTML form body (`application/x-www-form-urlencoded`), as the OAuth2 endpoints take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form<T>(pub T);

impl<T: Serialize> RequestBody for Form<T> {
    fn encode(&self) -> Result<Option<Encoded>, EndpointError> {
        let text = serde_urlencoded::to_string(&self.0)
            .map_err(|e| EndpointError::Encode(e.to_string()))?;
        Ok(Some(Encoded {
            content_type: "application/x-www-form-urlencoded",
            bytes: text.into_bytes(),
        }))
    }
}

/// What a successful answer holds.
pub trait ResponseBody: Sized {
    /// The answer read from its body.
    fn decode(body: &[u8]) -> Result<Self, EndpointError>;
}

/// A JSON answer; an empty body (204) reads as JSON `null`.
impl<T: DeserializeOwned> ResponseBody for T {
    fn decode(body: &[u8]) -> Result<Self, EndpointError> {
        let body = if body.is_empty() { b"null" } else { body };
        serde_json::from_slice(body).map_err(|e| EndpointError::Decode(e.to_string()))
    }
}

/// An answer whose body does not matter (204, or RFC 7009's empty 200).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoContent;

impl ResponseBody for NoContent {
    fn decode(_: &[u8]) -> Result<Self, EndpointError> {
        Ok(Self)
    }
}

/// A text answer (the CSV template, a web page), read as UTF-8.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextBody(pub String);

impl ResponseBody for TextBody {
    fn decode(body: &[u8]) -> Result<Self, EndpointError> {
        Ok(Self(String::from_utf8_lossy(body).into_owned()))
    }
}

/// A server-sent event stream (`text/event-stream`, the live channel): read as it arrives
/// with [`crate::live::SseDecoder`], never as a whole body, so decoding one fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventStream;

impl ResponseBody for EventStream {
    fn decode(_: &[u8]) -> Result<Self, EndpointError> {
        Err(EndpointError::Decode(
            "an event stream is read as it arrives, not as one body".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::oauth::TokenGrant;

    #[test]
    fn each_kind_of_body_is_encoded_with_its_content_type() {
        let json = crate::SetGroupMembersRequest {
            user_ids: vec![1, 2],
        }
        .encode()
        .unwrap()
        .unwrap();
        assert_eq!(json.content_type, "application/json");
        assert_eq!(json.bytes, br#"{"user_ids":[1,2]}"#);
        assert_eq!(NoBody.encode().unwrap(), None);
        let csv = CsvFile(b"a,b\n".to_vec()).encode().unwrap().unwrap();
        assert_eq!(
            (csv.content_type, csv.bytes),
            ("text/csv", b"a,b\n".to_vec())
        );
        let form = Form(TokenGrant::RefreshToken {
            refresh_token: "r t".into(),
            client_id: "keyway-app".into(),
        })
        .encode()
        .unwrap()
        .unwrap();
        assert_eq!(form.content_type, "application/x-www-form-urlencoded");
        assert_eq!(
            String::from_utf8(form.bytes).unwrap(),
            "grant_type=refresh_token&refresh_token=r+t&client_id=keyway-app"
        );
    }

    #[test]
    fn answers_are_decoded_by_their_kind() {
        let status: crate::remote::RemotePinStatus =
            ResponseBody::decode(br#"{"set":true,"failures":0,"locked":false,"retry_after":null}"#)
                .unwrap();
        assert!(status.set);
        assert_eq!(<()>::decode(b"").unwrap(), ());
        assert_eq!(NoContent::decode(b"anything").unwrap(), NoContent);
        assert_eq!(TextBody::decode(b"a,b").unwrap(), TextBody("a,b".into()));
        assert!(matches!(
            crate::SiteView::decode(b"{}"),
            Err(EndpointError::Decode(_))
        ));
    }
}
