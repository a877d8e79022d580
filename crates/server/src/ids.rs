//! Random ids and secrets, and hashing of tokens for storage.

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A random url-safe string of `bytes` random bytes.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// A new id with a readable prefix, e.g. `conv_019ae3c1f2a0Xk…`: the creation time in
/// milliseconds (12 hex digits) and then 12 random bytes. Ids made close in time sort close
/// together, so the rows and index entries of the conversations that are active now share a
/// few B-tree pages instead of one page each: a commit writes fewer pages.
pub fn new_id(prefix: &str) -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{prefix}_{millis:012x}{}", random_token(12))
}

/// SHA-256 of a token, hex: what is stored instead of the token.
pub fn hash_token(token: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(digest.len() * 2);
    for b in digest {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    hex
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_later_sort_later() {
        let first = new_id("conv");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_id("conv");
        assert!(first < second, "{first} should sort before {second}");
        assert!(first.starts_with("conv_") && first.len() == "conv_".len() + 12 + 16);
        assert_ne!(new_id("conv"), new_id("conv"));
    }

    #[test]
    fn token_hashes_are_sha256_in_lowercase_hex() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
