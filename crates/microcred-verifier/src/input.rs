//! What the bytes of a file are, for verification: a credential's JSON goes on as is; a baked
//! PNG or SVG badge is unbaked first; an image that carries no Open Badges 3.0 credential's
//! JSON (an Open Badges 2.0 assertion, a VC-JWT) is explained, not verified.

use std::borrow::Cow;

use microcred_badge::{BakedSpec, ImageFormat, PayloadKind, Unbaked};
use serde_json::Value;

/// What a verifier does with a file's bytes.
#[derive(Debug)]
pub enum VerifyInput<'a> {
    /// Verify these bytes.
    Credential {
        /// The credential's bytes (the file itself, or unbaked from the image).
        bytes: Cow<'a, [u8]>,
        /// Which baked image they were extracted from, in words (`None` for a JSON file).
        from: Option<String>,
    },
    /// Not verifiable here; the message says why (exit 2, could not check).
    NotVerifiable(String),
}

/// A credential's JSON goes to verification as is; a baked PNG or SVG is unbaked first.
pub fn verify_input(bytes: &[u8]) -> VerifyInput<'_> {
    let Some(format) = ImageFormat::detect(bytes) else {
        return VerifyInput::Credential {
            bytes: Cow::Borrowed(bytes),
            from: None,
        };
    };
    let found = match microcred_badge::unbake(bytes) {
        Ok(found) => found,
        Err(e) => return VerifyInput::NotVerifiable(format!("{e}")),
    };
    match (found.spec, found.kind()) {
        (BakedSpec::OpenBadges3, PayloadKind::Json) => VerifyInput::Credential {
            from: Some(format!(
                "extracted from a baked {format} image ({})",
                found.found_in
            )),
            bytes: Cow::Owned(found.text),
        },
        (BakedSpec::OpenBadges3, PayloadKind::CompactJws) => VerifyInput::NotVerifiable(format!(
            "the {format} image carries a VC-JWT (compact JWS) credential; microcred verifies \
             Data Integrity proofs only: ask the issuer for the credential's JSON"
        )),
        (BakedSpec::OpenBadges3, kind) => VerifyInput::NotVerifiable(format!(
            "the {format} image's baked credential is {kind}, not a credential's JSON"
        )),
        _ => VerifyInput::NotVerifiable(format!(
            "OB 2.0 assertion (hosted/signed) — not verifiable as a VC: the {format} image \
             carries an Open Badges 2.0 {} in its {}; check it with an Open Badges 2.0 \
             validator, or ask the issuer for an Open Badges 3.0 credential",
            describe_ob2(&found),
            found.found_in
        )),
    }
}

/// What an Open Badges 2.0 image carries, in words: "hosted assertion URL https://…",
/// "signed assertion (JWS)", "assertion JSON (…)".
pub fn describe_ob2(found: &Unbaked) -> String {
    match found.kind() {
        PayloadKind::Url => format!(
            "hosted assertion URL {}",
            printable(&String::from_utf8_lossy(&found.text))
        ),
        PayloadKind::CompactJws => "signed assertion (JWS)".into(),
        PayloadKind::Json => {
            let value = microcred_core::parse_strict(&found.text).ok();
            let get = |v: &Value, keys: &[&str]| -> Option<String> {
                keys.iter()
                    .try_fold(v, |v, k| v.get(*k))
                    .and_then(Value::as_str)
                    .map(printable)
            };
            let verification = value.as_ref().and_then(|v| {
                get(v, &["verification", "type"]).or_else(|| get(v, &["verify", "type"]))
            });
            let id = value.as_ref().and_then(|v| get(v, &["id"]));
            match (verification, id) {
                (Some(t), Some(id)) => format!("assertion JSON ({t} verification, id {id})"),
                (Some(t), None) => format!("assertion JSON ({t} verification)"),
                (None, Some(id)) => format!("assertion JSON (id {id})"),
                (None, None) => "assertion JSON".into(),
            }
        }
        _ => "assertion of an unrecognized form".into(),
    }
}

/// At most 200 characters, control characters replaced (no terminal escapes from images).
fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_passes_through_and_images_are_unbaked() {
        let json = br#"{"a":1}"#;
        assert!(matches!(
            verify_input(json),
            VerifyInput::Credential { from: None, .. }
        ));
        let png = microcred_badge::generated_badge("x", ImageFormat::Png).unwrap();
        let baked = microcred_badge::bake(&png, json).unwrap();
        match verify_input(&baked) {
            VerifyInput::Credential { bytes, from } => {
                assert_eq!(&*bytes, json);
                assert!(from.unwrap().contains("PNG"));
            }
            VerifyInput::NotVerifiable(m) => panic!("{m}"),
        }
        match verify_input(&png) {
            VerifyInput::NotVerifiable(m) => assert!(m.contains("no Open Badges credential")),
            VerifyInput::Credential { .. } => panic!("unbaked image verified"),
        }
    }

    #[test]
    fn open_badges_2_is_explained() {
        let svg = br#"<svg xmlns:openbadges="http://openbadges.org"><openbadges:assertion verify="https://example.org/a/1"/></svg>"#;
        match verify_input(svg) {
            VerifyInput::NotVerifiable(m) => {
                assert!(m.contains("OB 2.0 assertion (hosted/signed) — not verifiable as a VC"));
                assert!(
                    m.contains("hosted assertion URL https://example.org/a/1"),
                    "{m}"
                );
            }
            VerifyInput::Credential { .. } => panic!("OB 2.0 verified"),
        }
        let hosted = br#"<svg xmlns:openbadges="http://openbadges.org"><openbadges:assertion verify="https://example.org/a/1"><![CDATA[{"id":"https://example.org/a/1","verification":{"type":"hosted"}}]]></openbadges:assertion></svg>"#;
        match verify_input(hosted) {
            VerifyInput::NotVerifiable(m) => {
                assert!(
                    m.contains("assertion JSON (hosted verification, id https://example.org/a/1)"),
                    "{m}"
                );
            }
            VerifyInput::Credential { .. } => panic!("OB 2.0 verified"),
        }
        assert_eq!(printable("a\u{1b}[31mb"), "a?[31mb");
    }
}
