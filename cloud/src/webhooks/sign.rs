//! Standard Webhooks signing: the secret is `whsec_` and the base64 of 24 random bytes (the
//! HMAC key); each message carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
//! `webhook-signature: v1,<base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{ApiError, ApiResult};

/// What every secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new endpoint secret.
pub fn new_secret() -> ApiResult<String> {
    let mut key = [0u8; 24];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| ApiError::Internal("random generator failed".into()))?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(key)))
}

/// The `webhook-signature` header of a message.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> ApiResult<String> {
    let key = secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .ok_or_else(|| ApiError::Internal("a stored webhook secret is malformed".into()))?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    let tag = hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", STANDARD.encode(tag.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn the_specifications_example_signs_the_same() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let signed =
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body).unwrap();
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(new_secret().unwrap().starts_with(SECRET_PREFIX));
        assert!(signature("nope", "id", 1, "").is_err());
    }
}
