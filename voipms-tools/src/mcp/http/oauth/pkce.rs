//! The small cryptography of the OAuth server: random secrets, their SHA-256 digests (what the
//! store keeps instead of the secrets), and the PKCE S256 check.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A fresh secret: `prefix` and 32 random bytes in base64url (256 bits).
pub fn secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    // The OS generator failing is not something a server can work around; refuse loudly rather
    // than hand out a guessable token.
    getrandom::fill(&mut bytes).expect("the operating system's random generator is unavailable");
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A random identifier: 16 random bytes in lower-case hex.
pub fn id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random generator is unavailable");
    hex(&bytes)
}

/// The SHA-256 digest of `secret` in hex: what the store keeps.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal secrets, compared in constant time (through their digests, so lengths leak nothing).
pub fn same_secret(given: &str, expected_digest: &[u8; 32]) -> bool {
    let d = Sha256::digest(given.as_bytes());
    bool::from(d.as_slice().ct_eq(expected_digest))
}

/// The raw SHA-256 digest of `secret`.
pub fn raw_digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A code challenge as RFC 7636 has it for S256: 43 base64url characters.
pub fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A code verifier: 43 to 128 characters of `[A-Za-z0-9-._~]`.
fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// `BASE64URL(SHA256(verifier)) == challenge`, in constant time.
pub fn verify_s256(verifier: &str, challenge: &str) -> bool {
    if !valid_verifier(verifier) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_example() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(valid_challenge(challenge));
        assert!(verify_s256(verifier, challenge));
        assert!(!verify_s256(&verifier.replace('d', "e"), challenge));
        assert!(!verify_s256("short", challenge));
    }

    #[test]
    fn secrets_are_fresh_and_digests_stable() {
        let a = secret("x_");
        assert!(a.starts_with("x_") && a.len() == 45);
        assert_ne!(a, secret("x_"));
        assert_eq!(digest("abc").len(), 64);
        assert!(same_secret("abc", &raw_digest("abc")));
        assert!(!same_secret("abd", &raw_digest("abc")));
        assert_eq!(id().len(), 32);
    }
}
