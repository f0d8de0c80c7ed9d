//! Webhook signatures (CONTRACT §5, §8): the `edrv-signature` header and the Standard
//! Webhooks trio (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
//!
//! Pure functions over the secret, the event id, the raw body and a time; no I/O.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The headers that sign one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `edrv-signature: t=<unix ms>,v1=<hex HMAC-SHA256(secret UTF-8, body)>`.
    pub edrv_signature: String,
    /// `webhook-id`: the event's `_id`, the same on every retry.
    pub webhook_id: String,
    /// `webhook-timestamp`: Unix seconds.
    pub webhook_timestamp: String,
    /// `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`.
    pub webhook_signature: String,
}

impl SignatureHeaders {
    /// The headers as (name, value) pairs, in a fixed order.
    pub fn pairs(&self) -> [(&'static str, &str); 4] {
        [
            ("edrv-signature", &self.edrv_signature),
            ("webhook-id", &self.webhook_id),
            ("webhook-timestamp", &self.webhook_timestamp),
            ("webhook-signature", &self.webhook_signature),
        ]
    }
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length (long ones are hashed, short ones padded), so this
    // `else` cannot happen; it is not worth a panic path.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return Vec::new();
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The Standard Webhooks key for a secret: the base64-decoded part after `whsec_` when
/// the secret has that form, else the secret's UTF-8 bytes.
pub fn standard_webhooks_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix(model::webhooks::SECRET_PREFIX)
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .filter(|key| !key.is_empty())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// `v1=` of `edrv-signature`: lower-case hex HMAC-SHA256 with the secret's UTF-8 bytes as
/// the key and the raw body as the message.
pub fn edrv_v1(secret: &str, body: &str) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), &[body.as_bytes()]))
}

/// `v1,` of `webhook-signature`: base64 HMAC-SHA256 of `"<id>.<timestamp>.<body>"`.
pub fn standard_v1(secret: &str, id: &str, timestamp_secs: i64, body: &str) -> String {
    let timestamp = timestamp_secs.to_string();
    STANDARD.encode(hmac_sha256(
        &standard_webhooks_key(secret),
        &[
            id.as_bytes(),
            b".",
            timestamp.as_bytes(),
            b".",
            body.as_bytes(),
        ],
    ))
}

/// Signs one request sent at `now_ms` (Unix milliseconds).
pub fn sign(secret: &str, event_id: &str, body: &str, now_ms: i64) -> SignatureHeaders {
    let timestamp_secs = now_ms.div_euclid(1000);
    SignatureHeaders {
        edrv_signature: format!("t={now_ms},v1={}", edrv_v1(secret, body)),
        webhook_id: event_id.to_owned(),
        webhook_timestamp: timestamp_secs.to_string(),
        webhook_signature: format!("v1,{}", standard_v1(secret, event_id, timestamp_secs, body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_the_rfc_4231_test_vector() {
        // RFC 4231, test case 2.
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_standard_webhooks_example_signature_is_reproduced() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            standard_v1(secret, id, 1_614_265_330, body),
            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_without_the_whsec_form_are_used_as_utf8_bytes() {
        assert_eq!(standard_webhooks_key("plain-secret"), b"plain-secret");
        assert_eq!(
            standard_webhooks_key("whsec_!!notbase64"),
            b"whsec_!!notbase64"
        );
        assert_eq!(standard_webhooks_key("whsec_AAEC"), vec![0, 1, 2]);
    }

    #[test]
    fn headers_carry_milliseconds_in_edrv_and_seconds_in_the_timestamp() {
        let h = sign(
            "secret-123",
            "645e58b1a448ff6e42285ce0",
            "{}",
            1_683_904_689_613,
        );
        assert_eq!(h.webhook_timestamp, "1683904689");
        assert_eq!(h.webhook_id, "645e58b1a448ff6e42285ce0");
        assert!(h.edrv_signature.starts_with("t=1683904689613,v1="));
        assert_eq!(h.edrv_signature.len(), "t=1683904689613,v1=".len() + 64);
        assert!(h.webhook_signature.starts_with("v1,"));
    }
}
