//! Integrity of related resources (VC Data Model 2.0 §5.3): a `relatedResource` entry names a
//! resource by URL and fixes its bytes with `digestSRI` (W3C Subresource Integrity) and/or
//! `digestMultibase` (a multibase-encoded multihash). microcred checks a digest only against
//! bytes it holds exactly as their publisher serves them (see [`published_bytes`]); it never
//! fetches anything, so other resources are reported as not checkable, never as matching.

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// The outcome of checking one `relatedResource` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelatedResourceCheck {
    /// Every digest given matches the resource's bytes.
    Match,
    /// A digest does not match the resource's bytes: the credential would pin other bytes
    /// than the ones its issuer refers to.
    Mismatch {
        /// Which member (`digestSRI` or `digestMultibase`).
        member: &'static str,
        /// What the resource's bytes hash to, in the member's own notation.
        actual: String,
    },
    /// A digest value cannot be read (unknown algorithm, bad encoding).
    Malformed {
        /// Which member.
        member: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The resource is not one whose exact bytes microcred holds: nothing was checked.
    Unavailable,
}

/// The exact bytes of a resource microcred bundles as its publisher serves it, by URL.
///
/// Only the W3C contexts, copied from the repositories the W3C publishes them from
/// (`contexts/SOURCES.md`), are listed: for other bundled contexts the byte-for-byte identity
/// with what their hosts serve is not established, and a wrong "mismatch" would refuse a
/// correct credential.
pub fn published_bytes(url: &str) -> Option<&'static [u8]> {
    const BYTE_EXACT: &[&str] = &[
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
        "https://www.w3.org/2018/credentials/v1",
        "https://w3id.org/security/data-integrity/v2",
        "https://w3id.org/security/multikey/v1",
        "https://www.w3.org/ns/cid/v1",
    ];
    if !BYTE_EXACT.contains(&url) {
        return None;
    }
    microcred_rdf::bundled_contexts()
        .iter()
        .find(|(u, _)| *u == url)
        .map(|(_, text)| text.as_bytes())
}

/// Checks one `relatedResource` entry (an object with `id` and `digestSRI` and/or
/// `digestMultibase`) against the bytes `lookup` gives for its `id`.
pub fn check_related_resource<'a>(
    entry: &serde_json::Map<String, Value>,
    lookup: impl Fn(&str) -> Option<&'a [u8]>,
) -> RelatedResourceCheck {
    let Some(bytes) = entry.get("id").and_then(Value::as_str).and_then(lookup) else {
        return RelatedResourceCheck::Unavailable;
    };
    if let Some(sri) = entry.get("digestSRI") {
        let outcome = match sri.as_str() {
            Some(text) => check_sri(text, bytes),
            None => RelatedResourceCheck::Malformed {
                member: "digestSRI",
                reason: "must be a string".into(),
            },
        };
        if outcome != RelatedResourceCheck::Match {
            return outcome;
        }
    }
    if let Some(mb) = entry.get("digestMultibase") {
        let outcome = match mb.as_str() {
            Some(text) => check_multibase(text, bytes),
            None => RelatedResourceCheck::Malformed {
                member: "digestMultibase",
                reason: "must be a string".into(),
            },
        };
        if outcome != RelatedResourceCheck::Match {
            return outcome;
        }
    }
    RelatedResourceCheck::Match
}

/// The SHA-2 digests Subresource Integrity and multihash name, by SRI prefix.
fn digest(algorithm: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    Some(match algorithm {
        "sha256" => Sha256::digest(bytes).to_vec(),
        "sha384" => Sha384::digest(bytes).to_vec(),
        "sha512" => Sha512::digest(bytes).to_vec(),
        _ => return None,
    })
}

/// Subresource Integrity metadata (`sha384-<base64>`, several separated by spaces): as in the
/// SRI algorithm, only the strongest algorithm listed counts, and one of its values must match.
fn check_sri(text: &str, bytes: &[u8]) -> RelatedResourceCheck {
    const STRENGTH: [&str; 3] = ["sha256", "sha384", "sha512"];
    let mut entries = Vec::new();
    for token in text.split_ascii_whitespace() {
        // Options after `?` are allowed by SRI and ignored.
        let token = token.split('?').next().unwrap_or(token);
        let Some((alg, b64)) = token.split_once('-') else {
            return RelatedResourceCheck::Malformed {
                member: "digestSRI",
                reason: format!("\"{token}\" is not ALGORITHM-BASE64"),
            };
        };
        let Some(rank) = STRENGTH.iter().position(|a| *a == alg) else {
            return RelatedResourceCheck::Malformed {
                member: "digestSRI",
                reason: format!(
                    "uses the unsupported algorithm \"{alg}\" (sha256, sha384 or sha512)"
                ),
            };
        };
        let Ok(value) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            return RelatedResourceCheck::Malformed {
                member: "digestSRI",
                reason: format!("value \"{b64}\" is not base64"),
            };
        };
        entries.push((rank, alg, value));
    }
    let Some(strongest) = entries.iter().map(|(rank, ..)| *rank).max() else {
        return RelatedResourceCheck::Malformed {
            member: "digestSRI",
            reason: "is empty".into(),
        };
    };
    let alg = STRENGTH[strongest];
    let actual = digest(alg, bytes).unwrap_or_default();
    if entries
        .iter()
        .any(|(rank, _, value)| *rank == strongest && *value == actual)
    {
        RelatedResourceCheck::Match
    } else {
        RelatedResourceCheck::Mismatch {
            member: "digestSRI",
            actual: format!(
                "{alg}-{}",
                base64::engine::general_purpose::STANDARD.encode(actual)
            ),
        }
    }
}

/// A multibase (`z` base58btc, `u` base64url, `f` hex) multihash of SHA-256 (0x12), SHA-384
/// (0x20) or SHA-512 (0x13).
fn check_multibase(text: &str, bytes: &[u8]) -> RelatedResourceCheck {
    let malformed = |reason: String| RelatedResourceCheck::Malformed {
        member: "digestMultibase",
        reason,
    };
    let mut chars = text.chars();
    let decoded = match (chars.next(), chars.as_str()) {
        (Some('z'), rest) => bs58::decode(rest).into_vec().ok(),
        (Some('u'), rest) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(rest)
            .ok(),
        // Either case is read (the decoded digest is what is compared).
        (Some('f'), rest) => hex::decode(rest).ok(),
        _ => return malformed("has an unsupported multibase prefix (z, u or f)".into()),
    };
    let Some(multihash) = decoded else {
        return malformed("cannot be decoded".into());
    };
    // Data Integrity §2.6 asks for a multihash (code, length, digest). A bare SHA-2 digest
    // (32, 48 or 64 bytes, as the W3C VC 2.0 test suite writes it) is read too: multihashes of
    // those digests are 34, 50 or 66 bytes long, so the two forms cannot be confused.
    let (alg, value) = match (multihash.first(), multihash.len()) {
        (Some(0x12), 34) if multihash[1] == 32 => ("sha256", &multihash[2..]),
        (Some(0x20), 50) if multihash[1] == 48 => ("sha384", &multihash[2..]),
        (Some(0x13), 66) if multihash[1] == 64 => ("sha512", &multihash[2..]),
        (_, 32) => ("sha256", &multihash[..]),
        (_, 48) => ("sha384", &multihash[..]),
        (_, 64) => ("sha512", &multihash[..]),
        _ => return malformed("is not a SHA-256/384/512 multihash".into()),
    };
    let actual = digest(alg, bytes).unwrap_or_default();
    if value == actual.as_slice() {
        return RelatedResourceCheck::Match;
    }
    // Reported as the multihash it should have been.
    let code = match alg {
        "sha256" => 0x12,
        "sha384" => 0x20,
        _ => 0x13,
    };
    let mut mh = vec![code, u8::try_from(actual.len()).unwrap_or(0)];
    mh.extend_from_slice(&actual);
    RelatedResourceCheck::Mismatch {
        member: "digestMultibase",
        actual: format!("z{}", bs58::encode(mh).into_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const V2: &str = "https://www.w3.org/ns/credentials/v2";

    fn entry(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn check(v: Value) -> RelatedResourceCheck {
        check_related_resource(&entry(v), published_bytes)
    }

    #[test]
    fn digests_of_the_bundled_w3c_context() {
        let bytes = published_bytes(V2).unwrap_or_default();
        assert!(!bytes.is_empty());
        // contexts/SOURCES.md: SHA-256 of credentials-v2.jsonld.
        let sha256 = Sha256::digest(bytes);
        assert_eq!(
            hex::encode(sha256),
            "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
        );
        let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
        let sri256 = format!("sha256-{}", b64(&sha256));
        let sri384 = format!("sha384-{}", b64(&Sha384::digest(bytes)));
        assert_eq!(
            check(json!({"id": V2, "digestSRI": sri256})),
            RelatedResourceCheck::Match
        );
        assert_eq!(
            check(json!({"id": V2, "digestSRI": format!("{sri256} {sri384}")})),
            RelatedResourceCheck::Match
        );
        let mut mh = vec![0x12, 32];
        mh.extend_from_slice(&sha256);
        let z = format!("z{}", bs58::encode(&mh).into_string());
        let u = format!(
            "u{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&mh)
        );
        // A bare SHA-256 (no multihash header), as the W3C VC 2.0 test suite writes it.
        let bare = format!(
            "u{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256)
        );
        let f = format!("f{}", hex::encode(&mh));
        let f_upper = format!("f{}", hex::encode_upper(&mh));
        for mb in [z, u, bare, f, f_upper] {
            assert_eq!(
                check(json!({"id": V2, "digestMultibase": mb})),
                RelatedResourceCheck::Match
            );
        }
        // Odd length, a sign or a non-hex digit: malformed, never a match.
        let hex = hex::encode(&mh);
        for bad in [
            format!("f{}", &hex[1..]),
            format!("f+2{}", &hex[2..]),
            format!("f{}g", &hex[..hex.len() - 1]),
        ] {
            assert!(
                matches!(
                    check(json!({"id": V2, "digestMultibase": bad})),
                    RelatedResourceCheck::Malformed { .. }
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn wrong_digests_are_mismatches() {
        let zero = format!(
            "sha384-{}",
            base64::engine::general_purpose::STANDARD.encode([0u8; 48])
        );
        assert!(matches!(
            check(json!({"id": V2, "digestSRI": zero})),
            RelatedResourceCheck::Mismatch {
                member: "digestSRI",
                ..
            }
        ));
        let mut mh = vec![0x12, 32];
        mh.extend_from_slice(&[7u8; 32]);
        let z = format!("z{}", bs58::encode(&mh).into_string());
        assert!(matches!(
            check(json!({"id": V2, "digestMultibase": z})),
            RelatedResourceCheck::Mismatch {
                member: "digestMultibase",
                ..
            }
        ));
        assert!(matches!(
            check(json!({"id": V2, "digestSRI": "md5-AAAA"})),
            RelatedResourceCheck::Malformed { .. }
        ));
    }

    #[test]
    fn resources_not_held_are_not_checked() {
        assert_eq!(
            check(
                json!({"id": "https://college.example/syllabus.pdf", "digestSRI": "sha256-AAAA"})
            ),
            RelatedResourceCheck::Unavailable
        );
    }
}
