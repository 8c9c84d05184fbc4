//! Session identifiers: `ses_` and 26 lowercase base32 characters carrying 128 random bits.

const PREFIX: &str = "ses_";
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
const ENCODED_LEN: usize = 26;

/// Encodes 16 random bytes as a session ID.
pub fn session_id(random: [u8; 16]) -> String {
    let mut out = String::with_capacity(PREFIX.len() + ENCODED_LEN);
    out.push_str(PREFIX);
    let value = u128::from_be_bytes(random);
    // 26 characters of 5 bits hold 130 bits; the top two are always zero.
    for i in (0..ENCODED_LEN).rev() {
        out.push(ALPHABET[((value >> (i * 5)) & 31) as usize] as char);
    }
    out
}

/// A random seed for a realm's `Math.random`, below 2^53 so it survives a JavaScript number
/// (the session row stores it through the SQL API, which speaks JavaScript numbers).
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub fn random_seed() -> Result<u64, getrandom::Error> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)?;
    Ok(seed_from(bytes))
}

/// 16 random bytes (object keys, new session ids).
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub fn random_bytes() -> Result<[u8; 16], getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}

/// Eight random bytes as a seed below 2^53.
pub fn seed_from(bytes: [u8; 8]) -> u64 {
    u64::from_le_bytes(bytes) >> 11
}

/// Whether `s` has the shape of a session ID (anything else cannot exist).
pub fn is_session_id(s: &str) -> bool {
    s.strip_prefix(PREFIX).is_some_and(|rest| {
        rest.len() == ENCODED_LEN && rest.bytes().all(|b| ALPHABET.contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_documented_shape() {
        let id = session_id([0xff; 16]);
        assert!(is_session_id(&id), "{id}");
        assert_eq!(id.len(), 30);
        assert_ne!(session_id([1; 16]), session_id([2; 16]));
    }

    #[test]
    fn seeds_fit_in_a_javascript_number() {
        for bytes in [[0xff; 8], [0; 8], [0x80, 1, 2, 3, 4, 5, 6, 0xff]] {
            assert!(seed_from(bytes) < 1 << 53);
        }
        assert_eq!(seed_from([0xff; 8]), (1 << 53) - 1);
    }

    #[test]
    fn other_strings_are_not_ids() {
        for s in [
            "",
            "ses_",
            "ses_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "abc",
            "ses_aaaaaaaaaaaaaaaaaaaaaaaaa1",
        ] {
            assert!(!is_session_id(s), "{s}");
        }
    }
}
