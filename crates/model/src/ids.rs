//! Identifiers: 24-hex ObjectId-like `_id`s and charger identities.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use rand::RngCore;

use crate::ModelError;

/// A 24-lowercase-hex identifier: 4 bytes of Unix seconds, 5 random bytes fixed per
/// process, 3 bytes of a counter — the MongoDB ObjectId layout eDRV's ids follow.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(String);

fn process_random() -> &'static [u8; 5] {
    static RANDOM: OnceLock<[u8; 5]> = OnceLock::new();
    RANDOM.get_or_init(|| {
        let mut bytes = [0u8; 5];
        rand::thread_rng().fill_bytes(&mut bytes);
        bytes
    })
}

fn counter() -> &'static AtomicU32 {
    static COUNTER: OnceLock<AtomicU32> = OnceLock::new();
    COUNTER.get_or_init(|| AtomicU32::new(rand::random::<u32>() & 0x00ff_ffff))
}

impl ObjectId {
    /// A new id for the given time (Unix milliseconds).
    pub fn new_at(unix_ms: i64) -> ObjectId {
        let seconds = u32::try_from(unix_ms.div_euclid(1000)).unwrap_or(0);
        let count = counter().fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
        let mut bytes = [0u8; 12];
        bytes[..4].copy_from_slice(&seconds.to_be_bytes());
        bytes[4..9].copy_from_slice(process_random());
        bytes[9..].copy_from_slice(&count.to_be_bytes()[1..]);
        ObjectId(hex::encode(bytes))
    }

    /// Reads an id, accepting only 24 hex characters (upper case is folded).
    ///
    /// # Errors
    /// [`ModelError::Invalid`] for anything else.
    pub fn parse(text: &str) -> Result<ObjectId, ModelError> {
        if text.len() == 24 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(ObjectId(text.to_ascii_lowercase()))
        } else {
            Err(ModelError::Invalid(format!("'{text}' is not a 24-hex id")))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest charger identity we accept (CONTRACT §6).
pub const MAX_IDENTITY_LEN: usize = 48;

/// A charger's OCPP identity (the last path segment of its WebSocket URL): 1 to 48
/// characters, no `/`, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChargestationIdentity(String);

impl ChargestationIdentity {
    /// Checks an identity.
    ///
    /// # Errors
    /// [`ModelError::Invalid`] naming the rule broken.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let len = text.chars().count();
        if len == 0 || len > MAX_IDENTITY_LEN {
            return Err(ModelError::Invalid(format!(
                "endpoint must be 1 to {MAX_IDENTITY_LEN} characters"
            )));
        }
        if text.chars().any(|c| c == '/' || c.is_control()) {
            return Err(ModelError::Invalid(
                "endpoint must not contain '/' or control characters".into(),
            ));
        }
        Ok(ChargestationIdentity(text.to_owned()))
    }

    /// The identity as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_24_lowercase_hex_and_unique() {
        let a = ObjectId::new_at(1_683_904_689_613);
        let b = ObjectId::new_at(1_683_904_689_613);
        assert_eq!(a.as_str().len(), 24);
        assert!(a
            .as_str()
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("645e58b1"));
        assert_eq!(ObjectId::parse(a.as_str()).unwrap(), a);
    }

    #[test]
    fn object_id_parse_rejects_other_text() {
        assert!(ObjectId::parse("CP001").is_err());
        assert!(ObjectId::parse("645e58b1a448ff6e42285cez").is_err());
    }

    #[test]
    fn identities_are_limited_to_48_characters_without_slashes() {
        assert!(ChargestationIdentity::parse("CP001").is_ok());
        assert!(ChargestationIdentity::parse(&"x".repeat(48)).is_ok());
        assert!(ChargestationIdentity::parse(&"x".repeat(49)).is_err());
        assert!(ChargestationIdentity::parse("").is_err());
        assert!(ChargestationIdentity::parse("a/b").is_err());
    }
}
