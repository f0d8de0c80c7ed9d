//! Salted password hashes for charger Basic auth and API keys, and secret generation.
//!
//! Station passwords are hashed as `sha256$<salt hex>$<hex SHA-256(salt || password)>`
//! (see docs/adr/0003-secrets.md for why not a slow KDF); API keys, which are long random
//! values, are looked up by their unsalted SHA-256.

use rand::distributions::{Alphanumeric, DistString};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Hashes a password with a fresh random salt.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let digest = salted(&salt, password);
    format!("sha256${}${}", hex::encode(salt), hex::encode(digest))
}

fn salted(salt: &[u8], password: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(password.as_bytes());
    hasher.finalize().into()
}

/// Checks a password against a stored hash, in constant time for equal lengths.
pub fn verify_password(stored: &str, password: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("sha256"), Some(salt), Some(digest), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Ok(salt), Ok(expected)) = (hex::decode(salt), hex::decode(digest)) else {
        return false;
    };
    constant_time_eq(&salted(&salt, password), &expected)
}

/// Compares two byte strings without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A random alphanumeric secret of `len` characters.
pub fn random_secret(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), len)
}

/// The lookup hash of an API key.
pub fn api_key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Checks a station password: 8 to 40 printable ASCII characters (CONTRACT §2).
///
/// # Errors
/// A message naming the rule.
pub fn check_station_password(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if !(8..=40).contains(&len) || !password.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err("password must be 8 to 40 printable ASCII characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_passwords_verify_and_wrong_ones_do_not() {
        let stored = hash_password("s3cret-pass");
        assert!(verify_password(&stored, "s3cret-pass"));
        assert!(!verify_password(&stored, "s3cret-pasS"));
        assert!(!verify_password("garbage", "s3cret-pass"));
        assert_ne!(hash_password("same"), hash_password("same"));
    }

    #[test]
    fn station_passwords_are_8_to_40_printable_ascii() {
        assert!(check_station_password("12345678").is_ok());
        assert!(check_station_password(&"a".repeat(40)).is_ok());
        assert!(check_station_password("1234567").is_err());
        assert!(check_station_password(&"a".repeat(41)).is_err());
        assert!(check_station_password("abcdefg\u{e9}").is_err());
    }

    #[test]
    fn random_secrets_have_the_requested_length() {
        assert_eq!(random_secret(20).len(), 20);
    }
}
