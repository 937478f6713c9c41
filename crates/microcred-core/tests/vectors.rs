//! Data-driven runner for the published test vectors in `tests/vectors/` (see `SOURCES.md` there).
//!
//! One test function per vector family or case. Every failure message names the case (file and
//! entry) it came from. Within a family, all cases run and the failures are reported together.

// Test helpers (outside #[test] functions) may unwrap and panic too: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use microcred_core::{
    hash_data, jcs, parse_datetime, parse_strict, sign, verify, CheckKind, Cryptosuite, IssuerKey,
    KeyRing, Outcome, PublicKey, Verdict, VerifyOptions,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use common::{ed25519_sign, outcomes, z_base58};

// ---------------------------------------------------------------------------------------------
// helpers

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// (relative path for messages, contents)
fn read(rel: &str) -> (String, String) {
    let path = vectors_dir().join(rel);
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("vector file {} cannot be read: {e}", path.display()));
    (format!("tests/vectors/{rel}"), text)
}

fn read_json(rel: &str) -> Value {
    let (name, text) = read(rel);
    parse_strict(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn read_object(rel: &str) -> Map<String, Value> {
    match read_json(rel) {
        Value::Object(map) => map,
        other => panic!("tests/vectors/{rel}: expected a JSON object, got {other}"),
    }
}

fn unhex(text: &str) -> Vec<u8> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(&text).unwrap_or_else(|e| panic!("bad hex `{text}`: {e}"))
}

/// Unpadded base64url (RFC 4648 §5).
fn base64url(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap_or_else(|e| panic!("not base64url: {text}: {e}"))
}

/// Collects failures so that every case of a family runs, then fails once with all of them.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, msg: impl FnOnce() -> String) {
        if !ok {
            self.0.push(msg());
        }
    }
    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, case: &str, what: &str, got: T, want: T) {
        if got != want {
            self.0.push(format!(
                "[{case}] {what}:\n    got:  {got:?}\n    want: {want:?}"
            ));
        }
    }
    fn finish(self, family: &str, cases: usize) {
        assert!(
            self.0.is_empty(),
            "{family}: {} failure(s) in {cases} case(s):\n{}",
            self.0.len(),
            self.0.join("\n")
        );
        eprintln!("{family}: {cases} case(s) passed");
    }
}

/// The W3C vc-di-eddsa test key (`keyPair.json` uses the older `privateKeyMultibase` name),
/// read through the ordinary key-file path.
fn w3c_test_key() -> IssuerKey {
    let pair = read_object("w3c-vc-di-eddsa/TestVectors/keyPair.json");
    let file = serde_json::json!({
        "type": "Multikey",
        "publicKeyMultibase": pair["publicKeyMultibase"],
        "secretKeyMultibase": pair["privateKeyMultibase"],
    });
    IssuerKey::from_key_file(&file.to_string())
        .unwrap_or_else(|e| panic!("tests/vectors/w3c-vc-di-eddsa/TestVectors/keyPair.json: {e}"))
}

// ---------------------------------------------------------------------------------------------
// W3C vc-di-eddsa, eddsa-jcs-2022

const JCS_DIR: &str = "w3c-vc-di-eddsa/TestVectors/eddsa-jcs-2022";

#[test]
fn w3c_eddsa_jcs_2022_hash_data() {
    let doc = read_object("w3c-vc-di-eddsa/TestVectors/unsigned.json");
    let config = read_object(&format!("{JCS_DIR}/proofConfigJCS.json"));
    let data = hash_data(Cryptosuite::EddsaJcs2022, &doc, &config).unwrap();
    let text = |f: &str| read(&format!("{JCS_DIR}/{f}")).1;
    let mut fails = Failures::default();
    let case = "w3c/vc-di-eddsa TestVectors/eddsa-jcs-2022";
    fails.eq(
        case,
        "canonDocJCS.txt",
        String::from_utf8_lossy(&data.canonical_document).into_owned(),
        text("canonDocJCS.txt"),
    );
    fails.eq(
        case,
        "proofCanonJCS.txt",
        String::from_utf8_lossy(&data.canonical_config).into_owned(),
        text("proofCanonJCS.txt"),
    );
    fails.eq(
        case,
        "docHashJCS.txt",
        hex::encode(&data.hash[32..]),
        text("docHashJCS.txt").trim().to_owned(),
    );
    fails.eq(
        case,
        "proofHashJCS.txt",
        hex::encode(&data.hash[..32]),
        text("proofHashJCS.txt").trim().to_owned(),
    );
    fails.eq(
        case,
        "combinedHashJCS.txt",
        hex::encode(data.hash),
        text("combinedHashJCS.txt").trim().to_owned(),
    );
    // The canonical bytes also hash to the published values (no hidden transformation).
    fails.eq(
        case,
        "SHA-256(canonDocJCS.txt)",
        hex::encode(Sha256::digest(text("canonDocJCS.txt"))),
        text("docHashJCS.txt").trim().to_owned(),
    );
    fails.finish("w3c eddsa-jcs-2022 hash data", 1);
}

#[test]
fn w3c_eddsa_jcs_2022_sign_reproduces_signed_jcs() {
    let key = w3c_test_key();
    let unsigned = read_json("w3c-vc-di-eddsa/TestVectors/unsigned.json");
    let created = parse_datetime("2023-02-24T23:36:38Z").unwrap();
    let signed = sign(&unsigned, &key, Cryptosuite::EddsaJcs2022, created).unwrap();
    let (name, expected_text) = read(&format!("{JCS_DIR}/signedJCS.json"));
    let expected = parse_strict(expected_text.as_bytes()).unwrap();
    let mut fails = Failures::default();
    fails.eq(&name, "whole signed document", &signed, &expected);
    // Same members in the same order, and the same pretty-printed bytes (2-space indent).
    fails.eq(
        &name,
        "pretty-printed bytes",
        serde_json::to_string_pretty(&signed).unwrap(),
        expected_text.trim_end().to_owned(),
    );
    let proof_value = signed["proof"]["proofValue"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    fails.eq(
        &name,
        "proofValue vs sigBTC58JCS.txt",
        proof_value.clone(),
        read(&format!("{JCS_DIR}/sigBTC58JCS.txt"))
            .1
            .trim()
            .to_owned(),
    );
    let sig = bs58::decode(proof_value.trim_start_matches('z'))
        .into_vec()
        .unwrap_or_default();
    fails.eq(
        &name,
        "signature vs sigHexJCS.txt",
        hex::encode(&sig),
        read(&format!("{JCS_DIR}/sigHexJCS.txt"))
            .1
            .trim()
            .to_owned(),
    );
    fails.finish("w3c eddsa-jcs-2022 sign", 1);
}

#[test]
fn w3c_eddsa_jcs_2022_verify_signed_jcs() {
    let (name, bytes) = read(&format!("{JCS_DIR}/signedJCS.json"));
    let keys = KeyRing::new();
    let at = parse_datetime("2024-01-01T00:00:00Z").unwrap();
    let report = verify(bytes.as_bytes(), &VerifyOptions::new(at, &keys));
    // The signature is good, but the vector's issuer is an https URL while the key is a
    // did:key: the key is not the issuer's, so the credential must not be accepted.
    assert_eq!(
        outcomes(&report, CheckKind::WellFormed),
        [Outcome::Pass],
        "{name}: {report:#?}"
    );
    assert_eq!(
        outcomes(&report, CheckKind::Proof),
        [Outcome::Pass],
        "{name}: {report:#?}"
    );
    assert_eq!(
        outcomes(&report, CheckKind::Signature),
        [Outcome::Pass],
        "{name}: {report:#?}"
    );
    assert_eq!(
        outcomes(&report, CheckKind::IssuerKey),
        [Outcome::Fail],
        "{name}: {report:#?}"
    );
    assert_eq!(
        outcomes(&report, CheckKind::Validity),
        [Outcome::Pass],
        "{name}: {report:#?}"
    );
    assert_eq!(report.verdict, Verdict::Invalid, "{name}: {report:#?}");
}

// ---------------------------------------------------------------------------------------------
// research-derived OB 3.0 microcredential (not an official vector)

const OB_MIN: &str = "research-derived/ob30-microcredential-min";

#[test]
fn ob30_min_jcs_verifies() {
    let (name, bytes) = read(&format!("{OB_MIN}/signed-eddsa-jcs-2022.json"));
    let keys = KeyRing::new();
    let at = parse_datetime("2025-07-01T00:00:00Z").unwrap();
    let report = verify(bytes.as_bytes(), &VerifyOptions::new(at, &keys));
    assert_eq!(
        outcomes(&report, CheckKind::Signature),
        [Outcome::Pass],
        "{name}: {report:#?}"
    );
    // Its issuer is the signing key's did:key, so every required check passes.
    assert_eq!(
        outcomes(&report, CheckKind::IssuerKey),
        [Outcome::Pass],
        "{name}: {report:#?}"
    );
    assert_eq!(report.verdict, Verdict::Valid, "{name}: {report:#?}");
}

#[test]
fn ob30_min_jcs_hash_data_and_sign() {
    let signed = read_object(&format!("{OB_MIN}/signed-eddsa-jcs-2022.json"));
    let hashes = read_json(&format!("{OB_MIN}/hashes.json"));
    let want = &hashes["eddsa-jcs-2022"];
    let mut doc = signed.clone();
    let Some(Value::Object(mut config)) = doc.shift_remove("proof") else {
        panic!("{OB_MIN}/signed-eddsa-jcs-2022.json: no proof object");
    };
    config.shift_remove("proofValue");
    let data = hash_data(Cryptosuite::EddsaJcs2022, &doc, &config).unwrap();
    let case = OB_MIN.to_owned();
    let mut fails = Failures::default();
    fails.eq(
        &case,
        "canonDoc-jcs.json",
        String::from_utf8_lossy(&data.canonical_document).into_owned(),
        read(&format!("{OB_MIN}/canonDoc-jcs.json")).1,
    );
    fails.eq(
        &case,
        "canonProof-jcs.json",
        String::from_utf8_lossy(&data.canonical_config).into_owned(),
        read(&format!("{OB_MIN}/canonProof-jcs.json")).1,
    );
    fails.eq(
        &case,
        "hashes.json docHash",
        hex::encode(&data.hash[32..]),
        want["docHash"].as_str().unwrap_or_default().to_owned(),
    );
    fails.eq(
        &case,
        "hashes.json proofHash",
        hex::encode(&data.hash[..32]),
        want["proofHash"].as_str().unwrap_or_default().to_owned(),
    );

    // Signing unsigned.json with the W3C test key at the proof's `created` reproduces the file.
    let unsigned = read_json(&format!("{OB_MIN}/unsigned.json"));
    let created = parse_datetime(config["created"].as_str().unwrap_or_default()).unwrap();
    let ours = sign(
        &unsigned,
        &w3c_test_key(),
        Cryptosuite::EddsaJcs2022,
        created,
    )
    .unwrap();
    fails.eq(
        &case,
        "sign(unsigned.json) vs signed-eddsa-jcs-2022.json",
        ours.clone(),
        Value::Object(signed),
    );
    fails.eq(
        &case,
        "hashes.json proofValue",
        ours["proof"]["proofValue"].clone(),
        want["proofValue"].clone(),
    );
    fails.finish("research-derived ob30-microcredential-min (jcs)", 1);
}

// ---------------------------------------------------------------------------------------------
// did:key (w3c-ccg/did-method-key), Ed25519 entries

#[test]
fn did_key_ed25519_seeds() {
    let file = "w3c-ccg-did-method-key/test-vectors/ed25519-x25519.json";
    let vectors = read_object(file);
    let mut fails = Failures::default();
    let mut cases = 0;
    for (did, entry) in &vectors {
        let case = format!("{file} {did}");
        let vkp = &entry["verificationKeyPair"];
        // The raw public key as the entry gives it: base58 (2018 suite) or a JWK (2020 suite).
        let raw_public = match vkp["type"].as_str() {
            Some("Ed25519VerificationKey2018") => {
                bs58::decode(vkp["publicKeyBase58"].as_str().unwrap_or_default())
                    .into_vec()
                    .unwrap_or_default()
            }
            Some("JsonWebKey2020") if vkp["publicKeyJwk"]["crv"] == "Ed25519" => {
                base64url(vkp["publicKeyJwk"]["x"].as_str().unwrap_or_default())
            }
            _ => continue, // not an Ed25519 entry
        };
        cases += 1;
        let seed: [u8; 32] = unhex(entry["seed"].as_str().unwrap_or_default())
            .try_into()
            .unwrap_or_else(|_| panic!("[{case}] seed is not 32 bytes"));
        let key = IssuerKey::from_seed(&seed).unwrap();
        let public = key.public_key();
        // did:key:z6Mk... and the method id `did#z6Mk...` (given relative or absolute).
        fails.eq(&case, "did:key from seed", key.controller(), did.as_str());
        let vm_id = vkp["id"].as_str().unwrap_or_default();
        let vm_id = if vm_id.starts_with('#') {
            format!("{did}{vm_id}")
        } else {
            vm_id.to_owned()
        };
        fails.eq(
            &case,
            "verification method id",
            key.id().to_owned(),
            vm_id.clone(),
        );
        // publicKeyMultibase = the method fragment = the DID's method-specific id.
        let fragment = vm_id
            .split_once('#')
            .map(|(_, f)| f.to_owned())
            .unwrap_or_default();
        fails.eq(&case, "publicKeyMultibase", public.to_multibase(), fragment);
        fails.eq(
            &case,
            "publicKeyMultibase",
            format!("did:key:{}", public.to_multibase()),
            did.clone(),
        );
        fails.eq(
            &case,
            "raw public key",
            public.to_bytes().to_vec(),
            raw_public,
        );
        // And back: reading the DID (or the method id) yields the same key.
        fails.eq(
            &case,
            "PublicKey::from_did_key(did)",
            PublicKey::from_did_key(did).ok(),
            Some(public),
        );
        fails.eq(
            &case,
            "PublicKey::from_did_key(method id)",
            PublicKey::from_did_key(key.id()).ok(),
            Some(public),
        );
        let doc_vm_id = &entry["didDocument"]["verificationMethod"][0]["id"];
        fails.eq(
            &case,
            "didDocument.verificationMethod[0].id",
            Value::from(key.id()),
            doc_vm_id.clone(),
        );
        let resolved = KeyRing::new().resolve(key.id());
        fails.check(
            resolved
                .as_ref()
                .is_ok_and(|m| m.key == public && m.controller == *did && m.assertion),
            || format!("[{case}] KeyRing::resolve(method id) gave {resolved:?}"),
        );
        // The published DID document, supplied to a key ring, yields the same key for
        // assertion (its X25519 key-agreement method is not an Ed25519 key and is ignored).
        let mut ring = KeyRing::new();
        match ring.add_controller_document(&entry["didDocument"]) {
            Ok(_) => {
                let m = ring.resolve(key.id());
                fails.check(
                    m.as_ref().is_ok_and(|m| m.key == public && m.assertion),
                    || format!("[{case}] key ring from didDocument resolves to {m:?}"),
                );
            }
            Err(e) => fails.check(false, || {
                format!("[{case}] KeyRing::add_controller_document(didDocument): {e}")
            }),
        }
    }
    fails.check(cases == 5, || {
        format!("{file}: expected 5 Ed25519 entries, found {cases}")
    });
    fails.finish("did:key ed25519", cases);
}

// ---------------------------------------------------------------------------------------------
// RFC 8785 (JCS)

/// Each `rfc8785/input/X.json`, parsed and canonicalized, equals `output/X.json` byte for byte
/// (and the bytes in `outhex/X.txt`).
#[test]
fn rfc8785_input_output_files() {
    let dir = vectors_dir().join("rfc8785/input");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let mut fails = Failures::default();
    for name in &names {
        let case = format!("rfc8785/input/{name}");
        let stem = name.trim_end_matches(".json");
        let input = fs::read(dir.join(name)).unwrap();
        let expected = fs::read(vectors_dir().join("rfc8785/output").join(name)).unwrap();
        let expected_hex = unhex(&read(&format!("rfc8785/outhex/{stem}.txt")).1);
        fails.eq(
            &case,
            "output/ vs outhex/ (vector self-check)",
            &expected,
            &expected_hex,
        );

        let strict = match parse_strict(&input) {
            Ok(v) => v,
            Err(e) => {
                fails.check(false, || format!("[{case}] parse_strict: {e}"));
                continue;
            }
        };
        let got = jcs::canonicalize(&strict);
        fails.eq(
            &case,
            "canonicalize(parse_strict(input))",
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
        );
        // serde_json's own parser gives the same canonical form.
        let loose: Value = serde_json::from_slice(&input).unwrap();
        fails.eq(
            &case,
            "canonicalize(serde_json::from_slice(input))",
            jcs::canonicalize(&loose),
            expected.clone(),
        );
        // The canonical form is a fixed point.
        let again = jcs::canonicalize(&parse_strict(&got).unwrap());
        fails.eq(&case, "canonicalize is idempotent", again, got);
    }
    fails.check(names.len() == 6, || {
        format!("expected 6 input files, found {}: {names:?}", names.len())
    });
    fails.finish("rfc8785 input/output", names.len());
}

fn number_from_bits(hex_bits: &str) -> f64 {
    f64::from_bits(
        u64::from_str_radix(hex_bits, 16)
            .unwrap_or_else(|e| panic!("bad IEEE-754 hex `{hex_bits}`: {e}")),
    )
}

fn canonical_number(f: f64) -> Option<String> {
    serde_json::Number::from_f64(f).map(|n| jcs::canonicalize_to_string(&Value::Number(n)))
}

/// Runs a `hex,expected[,comment]` number table. NaN and ±Infinity cannot be carried by JSON
/// (serde_json refuses to build such a number), so rows without an expected value must be
/// exactly those, and are skipped. Returns (checked, skipped).
fn run_number_table(file: &str, fails: &mut Failures) -> (usize, usize) {
    let (name, text) = read(file);
    let (mut checked, mut skipped) = (0, 0);
    for (line_no, line) in text.lines().enumerate().skip(1) {
        let mut cols = line.splitn(3, ',');
        let (bits, expected) = (
            cols.next().unwrap_or_default(),
            cols.next().unwrap_or_default(),
        );
        let comment = cols.next().unwrap_or_default();
        let case = format!("{name}:{} {bits} {comment}", line_no + 1);
        let f = number_from_bits(bits);
        if expected.is_empty() {
            fails.check(!f.is_finite(), || {
                format!("[{case}] a finite number without an expected value")
            });
            fails.check(canonical_number(f).is_none(), || {
                format!("[{case}] JSON cannot carry {f}, yet a number was made")
            });
            skipped += 1;
            continue;
        }
        checked += 1;
        fails.eq(
            &case,
            "canonical form of f64::from_bits",
            canonical_number(f),
            Some(expected.to_owned()),
        );
        // The expected text, read as JSON, denotes the same double (or zero for -0) and is
        // already canonical.
        match parse_strict(expected.as_bytes()) {
            Ok(v) => {
                let back = v.as_f64().unwrap_or(f64::NAN);
                fails.check(back == f, || {
                    format!("[{case}] `{expected}` parses to {back:e}, not {f:e}")
                });
                fails.eq(
                    &case,
                    "canonicalize(parse(expected))",
                    jcs::canonicalize_to_string(&v),
                    expected.to_owned(),
                );
            }
            Err(e) => fails.check(false, || format!("[{case}] `{expected}` is not JSON: {e}")),
        }
    }
    (checked, skipped)
}

#[test]
fn rfc8785_appendix_b_numbers() {
    let mut fails = Failures::default();
    let (checked, skipped) = run_number_table("rfc8785/appendix-b-numbers.csv", &mut fails);
    fails.check(checked == 24 && skipped == 2, || {
        format!(
            "expected 24 finite rows and 2 skipped (NaN, Infinity), got {checked} and {skipped}"
        )
    });
    fails.finish(
        "rfc8785 appendix B numbers (NaN/Infinity skipped: not representable in JSON)",
        checked,
    );
}

#[test]
fn rfc8785_es6_sample_lines() {
    let mut fails = Failures::default();
    let (checked, skipped) = run_number_table("rfc8785/es6-samples.csv", &mut fails);
    fails.check(checked == 7 && skipped == 0, || {
        format!("expected 7 rows, got {checked} (+{skipped} skipped)")
    });
    fails.finish("rfc8785 es6 sample lines", checked);
}

/// The input sequence of `es6testfile100m.txt` (cyberphone/json-canonicalization
/// `testdata/README.md`): the static values, 2000 subnormal-boundary values, then doubles from
/// a SHA-256 chain (little-endian, skipping 0, NaN and ±Infinity).
struct Es6Numbers {
    statics: Vec<u64>,
    idx: usize,
    block: [u8; 32],
    pending: Vec<u64>,
}

impl Es6Numbers {
    fn new() -> Self {
        let statics = read("rfc8785/es6-numgen-static.txt")
            .1
            .lines()
            .map(|l| u64::from_str_radix(l.trim(), 16).unwrap())
            .collect();
        Self {
            statics,
            idx: 0,
            block: [0; 32],
            pending: Vec::new(),
        }
    }
}

impl Iterator for Es6Numbers {
    type Item = f64;
    fn next(&mut self) -> Option<f64> {
        const SERIAL: usize = 2000;
        let n = self.statics.len();
        let f = if self.idx < n {
            f64::from_bits(self.statics[self.idx])
        } else if self.idx < n + SERIAL {
            f64::from_bits(0x0010_0000_0000_0000 + (self.idx - n) as u64)
        } else {
            loop {
                if self.pending.is_empty() {
                    self.block = Sha256::digest(self.block).into();
                    self.pending = self
                        .block
                        .chunks_exact(8)
                        .rev()
                        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                        .collect();
                }
                let f = f64::from_bits(self.pending.pop().unwrap());
                if f != 0.0 && f.is_finite() {
                    break f;
                }
            }
        };
        self.idx += 1;
        Some(f)
    }
}

/// Regenerates the first `max_lines` lines of `es6testfile100m.txt` (`hex,expected\n`) with our
/// number serialization, and compares the SHA-256 at every published checkpoint up to there.
fn run_es6_file(max_lines: usize) -> usize {
    let (name, table) = read("rfc8785/es6testfile-sha256.csv");
    let checkpoints: Vec<(String, usize, u64)> = table
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                c[0].to_owned(),
                c[1].parse().unwrap(),
                c[2].parse().unwrap(),
            )
        })
        .filter(|(_, lines, _)| *lines <= max_lines)
        .collect();
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut line = String::with_capacity(64);
    let mut fails = Failures::default();
    let mut next_cp = checkpoints.iter().peekable();
    for (i, f) in Es6Numbers::new().take(max_lines).enumerate() {
        line.clear();
        let Some(text) = canonical_number(f) else {
            fails.check(false, || {
                format!("[es6 line {}] {:x}: no JSON number", i + 1, f.to_bits())
            });
            continue;
        };
        let _ = writeln!(line, "{:x},{text}", f.to_bits());
        hasher.update(line.as_bytes());
        size += line.len() as u64;
        if let Some((sha, lines, bytes)) = next_cp.peek() {
            if i + 1 == *lines {
                let case = format!("{name}: first {lines} lines");
                fails.eq(&case, "size in bytes", size, *bytes);
                fails.eq(
                    &case,
                    "SHA-256",
                    hex::encode(hasher.clone().finalize()),
                    sha.clone(),
                );
                next_cp.next();
            }
        }
    }
    let n = checkpoints.len();
    fails.check(n > 0, || {
        format!("no checkpoint at or below {max_lines} lines")
    });
    fails.finish(&format!("rfc8785 es6 number file, {max_lines} lines"), n);
    n
}

#[test]
fn rfc8785_es6_number_file_100k() {
    assert_eq!(run_es6_file(100_000), 3);
}

/// Slow in debug builds; run with `-- --ignored` (or in release).
#[test]
#[ignore = "10 million numbers: run with --ignored"]
fn rfc8785_es6_number_file_10m() {
    assert_eq!(run_es6_file(10_000_000), 5);
}

// ---------------------------------------------------------------------------------------------
// shared by the eddsa-rdfc-2022 and Ed25519Signature2020 families

/// Decodes base58btc multibase (`z...`).
fn multibase(text: &str) -> Vec<u8> {
    let b58 = text
        .strip_prefix('z')
        .unwrap_or_else(|| panic!("not base58btc multibase: {text}"));
    bs58::decode(b58)
        .into_vec()
        .unwrap_or_else(|e| panic!("bad base58 `{text}`: {e}"))
}

/// The 32-byte seed of a `secretKeyMultibase`/`privateKeyMultibase` in either form: the
/// Multikey form (header 0x8026 + seed) or the legacy 2020 form (header 0x8026 + seed ‖ public).
fn seed_of(secret_multibase: &str) -> [u8; 32] {
    let bytes = multibase(secret_multibase);
    assert_eq!(
        &bytes[..2],
        [0x80, 0x26],
        "{secret_multibase}: not an Ed25519 secret key"
    );
    assert!(
        bytes.len() == 34 || bytes.len() == 66,
        "{secret_multibase}: {} bytes",
        bytes.len()
    );
    bytes[2..34].try_into().unwrap()
}

/// `obj` without the member `name`.
fn without(obj: &Map<String, Value>, name: &str) -> Map<String, Value> {
    let mut obj = obj.clone();
    obj.shift_remove(name);
    obj
}

fn obj(v: &Value) -> Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("expected a JSON object, got {v}"))
        .clone()
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---------------------------------------------------------------------------------------------
// W3C vc-di-eddsa, eddsa-rdfc-2022

const RDFC_DIR: &str = "w3c-vc-di-eddsa/TestVectors/eddsa-rdfc-2022";

/// `hash_data` reproduces the canonical N-Quads and hashes of the vector, with the proof
/// configuration as published (with `@context`) and without `@context` (rdfc proofs carry none;
/// the document's `@context` is used either way).
#[test]
fn w3c_eddsa_rdfc_2022_hash_data() {
    let doc = read_object("w3c-vc-di-eddsa/TestVectors/unsigned.json");
    let published = read_object(&format!("{RDFC_DIR}/proofConfigDataInt.json"));
    let text = |f: &str| read(&format!("{RDFC_DIR}/{f}")).1;
    let mut fails = Failures::default();
    let configs = [
        ("proofConfigDataInt.json as published", published.clone()),
        (
            "proofConfigDataInt.json without @context",
            without(&published, "@context"),
        ),
    ];
    for (what, config) in &configs {
        let case = format!("w3c/vc-di-eddsa TestVectors/eddsa-rdfc-2022, {what}");
        let data = match hash_data(Cryptosuite::EddsaRdfc2022, &doc, config) {
            Ok(d) => d,
            Err(e) => {
                fails.check(false, || format!("[{case}] hash_data: {e}"));
                continue;
            }
        };
        fails.eq(
            &case,
            "canonDocDataInt.txt",
            lossy(&data.canonical_document),
            text("canonDocDataInt.txt"),
        );
        fails.eq(
            &case,
            "proofCanonDataInt.txt",
            lossy(&data.canonical_config),
            text("proofCanonDataInt.txt"),
        );
        fails.eq(
            &case,
            "docHashDataInt.txt",
            hex::encode(&data.hash[32..]),
            text("docHashDataInt.txt").trim().to_owned(),
        );
        fails.eq(
            &case,
            "proofHashDataInt.txt",
            hex::encode(&data.hash[..32]),
            text("proofHashDataInt.txt").trim().to_owned(),
        );
        fails.eq(
            &case,
            "combinedHashDataInt.txt",
            hex::encode(data.hash),
            text("combinedHashDataInt.txt").trim().to_owned(),
        );
        // The signature over those 64 bytes with the W3C key is the published one.
        let seed = seed_of(
            read_object("w3c-vc-di-eddsa/TestVectors/keyPair.json")["privateKeyMultibase"]
                .as_str()
                .unwrap(),
        );
        fails.eq(
            &case,
            "sigHexDataInt.txt",
            hex::encode(ed25519_sign(&seed, &data.hash)),
            text("sigHexDataInt.txt").trim().to_owned(),
        );
    }
    // Vector self-checks: the published canonical bytes hash to the published hashes.
    let case = "w3c/vc-di-eddsa TestVectors/eddsa-rdfc-2022 (self-check)";
    fails.eq(
        case,
        "SHA-256(canonDocDataInt.txt)",
        hex::encode(Sha256::digest(text("canonDocDataInt.txt"))),
        text("docHashDataInt.txt").trim().to_owned(),
    );
    fails.eq(
        case,
        "SHA-256(proofCanonDataInt.txt)",
        hex::encode(Sha256::digest(text("proofCanonDataInt.txt"))),
        text("proofHashDataInt.txt").trim().to_owned(),
    );
    fails.eq(
        case,
        "sigBTC58DataInt.txt vs sigHexDataInt.txt",
        hex::encode(multibase(text("sigBTC58DataInt.txt").trim())),
        text("sigHexDataInt.txt").trim().to_owned(),
    );
    fails.finish("w3c eddsa-rdfc-2022 hash data", configs.len());
}

#[test]
fn w3c_eddsa_rdfc_2022_sign_reproduces_signed_data_int() {
    let key = w3c_test_key();
    let unsigned = read_json("w3c-vc-di-eddsa/TestVectors/unsigned.json");
    let created = parse_datetime("2023-02-24T23:36:38Z").unwrap();
    let signed = sign(&unsigned, &key, Cryptosuite::EddsaRdfc2022, created).unwrap();
    let (name, expected_text) = read(&format!("{RDFC_DIR}/signedDataInt.json"));
    let expected = parse_strict(expected_text.as_bytes()).unwrap();
    let mut fails = Failures::default();
    fails.eq(&name, "whole signed document", &signed, &expected);
    // Same members in the same order (no `@context` in the proof), same pretty-printed bytes.
    fails.eq(
        &name,
        "pretty-printed bytes",
        serde_json::to_string_pretty(&signed).unwrap(),
        expected_text.trim_end().to_owned(),
    );
    let proof_value = signed["proof"]["proofValue"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    fails.eq(
        &name,
        "proofValue vs sigBTC58DataInt.txt",
        proof_value.clone(),
        read(&format!("{RDFC_DIR}/sigBTC58DataInt.txt"))
            .1
            .trim()
            .to_owned(),
    );
    fails.eq(
        &name,
        "signature vs sigHexDataInt.txt",
        hex::encode(multibase(&proof_value)),
        read(&format!("{RDFC_DIR}/sigHexDataInt.txt"))
            .1
            .trim()
            .to_owned(),
    );
    fails.finish("w3c eddsa-rdfc-2022 sign", 1);
}

#[test]
fn w3c_eddsa_rdfc_2022_verify_signed_data_int() {
    let (name, bytes) = read(&format!("{RDFC_DIR}/signedDataInt.json"));
    let keys = KeyRing::new();
    let at = parse_datetime("2024-01-01T00:00:00Z").unwrap();
    let report = verify(bytes.as_bytes(), &VerifyOptions::new(at, &keys));
    // Good signature; but the issuer is an https URL and the key a did:key, so the key is not
    // the issuer's and the credential must not be accepted.
    for (kind, want) in [
        (CheckKind::WellFormed, Outcome::Pass),
        (CheckKind::Proof, Outcome::Pass),
        (CheckKind::Signature, Outcome::Pass),
        (CheckKind::IssuerKey, Outcome::Fail),
        (CheckKind::Validity, Outcome::Pass),
    ] {
        assert_eq!(
            outcomes(&report, kind),
            [want],
            "{name} {kind:?}: {report:#?}"
        );
    }
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.check == CheckKind::Proof && c.reason.contains("eddsa-rdfc-2022")),
        "{name}: {report:#?}"
    );
    assert_eq!(report.verdict, Verdict::Invalid, "{name}: {report:#?}");
}

// ---------------------------------------------------------------------------------------------
// 1EdTech Open Badges 3.0 eddsa-rdfc-2022 vector (linked-data-proof-ob.html)

const OB_1EDTECH: &str = "1edtech-openbadges-specification/ob_v3p0/impl";

fn ob_1edtech() -> Map<String, Value> {
    read_object(&format!("{OB_1EDTECH}/linked-data-proof-ob.extracted.json"))
}

/// The vector's key as an institution key: a Multikey file plus the https controller.
fn ob_1edtech_key(v: &Map<String, Value>) -> IssuerKey {
    let file = serde_json::json!({
        "type": "Multikey",
        "publicKeyMultibase": v["publicKeyMultibase"],
        "secretKeyMultibase": v["secretKeyMultibase_cid_form"],
    });
    IssuerKey::from_key_file(&file.to_string())
        .unwrap()
        .with_controller(
            v["verificationMethod"].as_str().unwrap(),
            v["controller"].as_str().unwrap(),
        )
        .unwrap()
}

fn ob_1edtech_controller_document(v: &Map<String, Value>) -> Value {
    serde_json::json!({
        "id": v["controller"],
        "verificationMethod": [{
            "id": v["verificationMethod"],
            "type": "Multikey",
            "controller": v["controller"],
            "publicKeyMultibase": v["publicKeyMultibase"],
        }],
        "assertionMethod": [v["verificationMethod"]],
    })
}

#[test]
fn ob30_1edtech_rdfc_hash_data_and_sign() {
    let v = ob_1edtech();
    let case = format!("tests/vectors/{OB_1EDTECH}/linked-data-proof-ob.extracted.json");
    let want = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let mut fails = Failures::default();

    // The key material is self-consistent.
    let key = ob_1edtech_key(&v);
    fails.eq(
        &case,
        "publicKeyHex",
        hex::encode(key.public_key().to_bytes()),
        want("publicKeyHex"),
    );
    let seed = seed_of(&want("secretKeyMultibase_cid_form"));
    fails.eq(
        &case,
        "privateKeyHex_seed_plus_public",
        format!("{}{}", hex::encode(seed), want("publicKeyHex")),
        want("privateKeyHex_seed_plus_public"),
    );
    fails.eq(
        &case,
        "secretKeyMultibase_source (legacy 0x8026 ‖ seed ‖ public)",
        hex::encode(multibase(&want("secretKeyMultibase_source"))),
        format!("8026{}", want("privateKeyHex_seed_plus_public")),
    );
    fails.eq(
        &case,
        "key id",
        key.id().to_owned(),
        want("verificationMethod"),
    );

    let unsigned = obj(&v["unsignedCredential"]);
    let options = obj(&v["proofOptions"]);
    let data = hash_data(Cryptosuite::EddsaRdfc2022, &unsigned, &options).unwrap();
    fails.eq(
        &case,
        "document-canon.txt",
        lossy(&data.canonical_document),
        read(&format!(
            "{OB_1EDTECH}/test-vectors/obv3p0/document-canon.txt"
        ))
        .1,
    );
    fails.eq(
        &case,
        "proof-canon.txt",
        lossy(&data.canonical_config),
        read(&format!("{OB_1EDTECH}/test-vectors/obv3p0/proof-canon.txt")).1,
    );
    fails.eq(
        &case,
        "documentHashHex",
        hex::encode(&data.hash[32..]),
        want("documentHashHex"),
    );
    fails.eq(
        &case,
        "proofHashHex",
        hex::encode(&data.hash[..32]),
        want("proofHashHex"),
    );
    fails.eq(
        &case,
        "dataToSignHex",
        hex::encode(data.hash),
        want("dataToSignHex"),
    );
    fails.eq(
        &case,
        "signatureHex",
        hex::encode(ed25519_sign(&seed, &data.hash)),
        want("signatureHex"),
    );

    // The full pipeline: sign the unsigned credential with the institution key.
    let created = parse_datetime(options["created"].as_str().unwrap()).unwrap();
    let signed = sign(
        &v["unsignedCredential"],
        &key,
        Cryptosuite::EddsaRdfc2022,
        created,
    )
    .unwrap();
    fails.eq(
        &case,
        "proofValue",
        signed["proof"]["proofValue"].clone(),
        v["proofValue"].clone(),
    );
    fails.eq(
        &case,
        "hex(proofValue) = signatureHex",
        hex::encode(multibase(&want("proofValue"))),
        want("signatureHex"),
    );
    fails.eq(
        &case,
        "sign(unsignedCredential) vs signedCredential",
        signed,
        v["signedCredential"].clone(),
    );
    fails.finish("1EdTech OB 3.0 eddsa-rdfc-2022", 1);
}

#[test]
fn ob30_1edtech_rdfc_verifies_with_controller_document() {
    let v = ob_1edtech();
    let case = format!("tests/vectors/{OB_1EDTECH}/linked-data-proof-ob.extracted.json");
    let bytes = serde_json::to_vec(&v["signedCredential"]).unwrap();
    let at = parse_datetime("2024-01-01T00:00:00Z").unwrap();

    // Without the issuer's controller document, the https key cannot be resolved offline.
    let empty = KeyRing::new();
    let report = verify(&bytes, &VerifyOptions::new(at, &empty));
    assert_eq!(
        outcomes(&report, CheckKind::Signature),
        [Outcome::Unknown],
        "{case}: {report:#?}"
    );
    assert_eq!(
        report.verdict,
        Verdict::Indeterminate,
        "{case}: {report:#?}"
    );

    let mut keys = KeyRing::new();
    keys.add_controller_document(&ob_1edtech_controller_document(&v))
        .unwrap();
    let report = verify(&bytes, &VerifyOptions::new(at, &keys));
    assert_eq!(report.verdict, Verdict::Valid, "{case}: {report:#?}");
    assert_eq!(
        outcomes(&report, CheckKind::IssuerKey),
        [Outcome::Pass],
        "{case}: {report:#?}"
    );
    // Before validFrom it is not yet valid; the signature still verifies.
    let before = parse_datetime("2009-12-31T23:59:59Z").unwrap();
    let report = verify(&bytes, &VerifyOptions::new(before, &keys));
    assert_eq!(
        outcomes(&report, CheckKind::Signature),
        [Outcome::Pass],
        "{case}: {report:#?}"
    );
    assert_eq!(
        outcomes(&report, CheckKind::Validity),
        [Outcome::Fail],
        "{case}: {report:#?}"
    );
    // One character of the achievement's name changed: the signature no longer matches.
    let mut tampered = v["signedCredential"].clone();
    tampered["credentialSubject"]["achievement"]["name"] = "Teamwork!".into();
    let report = verify(
        &serde_json::to_vec(&tampered).unwrap(),
        &VerifyOptions::new(at, &keys),
    );
    assert_eq!(
        outcomes(&report, CheckKind::Signature),
        [Outcome::Fail],
        "{case}: {report:#?}"
    );
    assert_eq!(report.verdict, Verdict::Invalid, "{case}: {report:#?}");
}

// ---------------------------------------------------------------------------------------------
// research-derived OB 3.0 microcredential, eddsa-rdfc-2022 (not an official vector)

#[test]
fn ob30_min_rdfc_hash_data_and_sign() {
    let signed = read_object(&format!("{OB_MIN}/signed-eddsa-rdfc-2022.json"));
    let hashes = read_json(&format!("{OB_MIN}/hashes.json"));
    let want = &hashes["eddsa-rdfc-2022"];
    let doc = without(&signed, "proof");
    let config = without(&obj(&signed["proof"]), "proofValue");
    let data = hash_data(Cryptosuite::EddsaRdfc2022, &doc, &config).unwrap();
    let case = OB_MIN.to_owned();
    let mut fails = Failures::default();
    fails.eq(
        &case,
        "canonDoc-rdfc.nq",
        lossy(&data.canonical_document),
        read(&format!("{OB_MIN}/canonDoc-rdfc.nq")).1,
    );
    fails.eq(
        &case,
        "canonProof-rdfc.nq",
        lossy(&data.canonical_config),
        read(&format!("{OB_MIN}/canonProof-rdfc.nq")).1,
    );
    fails.eq(
        &case,
        "hashes.json docHash",
        hex::encode(&data.hash[32..]),
        want["docHash"].as_str().unwrap_or_default().to_owned(),
    );
    fails.eq(
        &case,
        "hashes.json proofHash",
        hex::encode(&data.hash[..32]),
        want["proofHash"].as_str().unwrap_or_default().to_owned(),
    );
    let unsigned = read_json(&format!("{OB_MIN}/unsigned.json"));
    fails.eq(
        &case,
        "unsigned.json = signed-eddsa-rdfc-2022.json without proof",
        &unsigned,
        &Value::Object(doc),
    );
    let created = parse_datetime(config["created"].as_str().unwrap_or_default()).unwrap();
    let ours = sign(
        &unsigned,
        &w3c_test_key(),
        Cryptosuite::EddsaRdfc2022,
        created,
    )
    .unwrap();
    fails.eq(
        &case,
        "hashes.json proofValue",
        ours["proof"]["proofValue"].clone(),
        want["proofValue"].clone(),
    );
    fails.eq(
        &case,
        "sign(unsigned.json) vs signed-eddsa-rdfc-2022.json",
        ours,
        Value::Object(signed),
    );
    fails.finish("research-derived ob30-microcredential-min (rdfc)", 1);
}

#[test]
fn ob30_min_rdfc_verifies() {
    let (name, bytes) = read(&format!("{OB_MIN}/signed-eddsa-rdfc-2022.json"));
    let keys = KeyRing::new();
    let at = parse_datetime("2025-07-01T00:00:00Z").unwrap();
    let report = verify(bytes.as_bytes(), &VerifyOptions::new(at, &keys));
    assert_eq!(
        outcomes(&report, CheckKind::Signature),
        [Outcome::Pass],
        "{name}: {report:#?}"
    );
    assert_eq!(
        outcomes(&report, CheckKind::IssuerKey),
        [Outcome::Pass],
        "{name}: {report:#?}"
    );
    assert_eq!(report.verdict, Verdict::Valid, "{name}: {report:#?}");
}

// ---------------------------------------------------------------------------------------------
// W3C vc-di-eddsa proof sets and proof chains (eddsa-rdfc-2022)

const SET_DIR: &str = "w3c-vc-di-eddsa/TestVectors/proof-set-chain";

/// keyPair1..4 of `multiKeyPairs.json`: (name, seed, did:key method id).
fn multi_key_pairs() -> Vec<(String, [u8; 32], String)> {
    let pairs = read_object(&format!("{SET_DIR}/multiKeyPairs.json"));
    pairs
        .iter()
        .map(|(name, pair)| {
            let file = serde_json::json!({
                "type": "Multikey",
                "publicKeyMultibase": pair["publicKeyMultibase"],
                "secretKeyMultibase": pair["privateKeyMultibase"],
            });
            let key = IssuerKey::from_key_file(&file.to_string())
                .unwrap_or_else(|e| panic!("{SET_DIR}/multiKeyPairs.json {name}: {e}"));
            let seed = seed_of(pair["privateKeyMultibase"].as_str().unwrap());
            (name.clone(), seed, key.id().to_owned())
        })
        .collect()
}

fn seed_for(vm: &str) -> [u8; 32] {
    multi_key_pairs()
        .into_iter()
        .find(|(_, _, id)| id == vm)
        .unwrap_or_else(|| panic!("no key pair in multiKeyPairs.json for {vm}"))
        .1
}

/// The proof-set vectors' proofs are reproduced from their configurations (which carry a
/// proof `id`, which `sign` does not make, so through `hash_data` and the key), and the signed
/// documents are the unsigned one plus those proofs.
#[test]
fn w3c_proof_set_reproduce() {
    let unsigned = read_object(&format!("{SET_DIR}/unsigned.json"));
    let mut fails = Failures::default();
    let mut proofs = Vec::new();
    for n in 1..=2 {
        let case = format!("{SET_DIR}/proofSetConfig{n}.json");
        let config = read_object(&format!("{SET_DIR}/proofSetConfig{n}.json"));
        let signed_config = read_object(&format!("{SET_DIR}/proofSetConfigSigned{n}.json"));
        let data = hash_data(Cryptosuite::EddsaRdfc2022, &unsigned, &config).unwrap();
        let seed = seed_for(config["verificationMethod"].as_str().unwrap());
        let mut proof = config.clone();
        proof.insert(
            "proofValue".into(),
            z_base58(&ed25519_sign(&seed, &data.hash)).into(),
        );
        fails.eq(
            &case,
            "proofSetConfigSigned (proofValue)",
            Value::Object(proof),
            Value::Object(signed_config.clone()),
        );
        proofs.push(Value::Object(signed_config));
    }
    let mut one = unsigned.clone();
    one.insert("proof".into(), proofs[0].clone());
    fails.eq(
        SET_DIR,
        "signedProofSet1.json = unsigned + proof 1",
        Value::Object(one),
        read_json(&format!("{SET_DIR}/signedProofSet1.json")),
    );
    let mut two = unsigned.clone();
    two.insert("proof".into(), Value::Array(proofs));
    fails.eq(
        SET_DIR,
        "signedProofSet2.json = unsigned + [proof 1, proof 2]",
        Value::Object(two),
        read_json(&format!("{SET_DIR}/signedProofSet2.json")),
    );
    fails.finish("w3c proof set (reproduce)", 2);
}

/// Every proof of the proof-set vectors verifies. Their verification methods are all
/// `did:key` (no controller documents needed), but the issuer is an https URL, so no key is
/// the issuer's: the verdict is Invalid, as for `signedDataInt.json` (in the two-proof set
/// both are co-signatures, and no proof is the issuer's).
#[test]
fn w3c_proof_set_verify() {
    let keys = KeyRing::new();
    let at = parse_datetime("2024-01-01T00:00:00Z").unwrap();
    for (file, n) in [("signedProofSet1.json", 1), ("signedProofSet2.json", 2)] {
        let (name, bytes) = read(&format!("{SET_DIR}/{file}"));
        let report = verify(bytes.as_bytes(), &VerifyOptions::new(at, &keys));
        assert_eq!(
            outcomes(&report, CheckKind::Proof),
            vec![Outcome::Pass; n],
            "{name}: {report:#?}"
        );
        assert_eq!(
            outcomes(&report, CheckKind::Signature),
            vec![Outcome::Pass; n],
            "{name}: {report:#?}"
        );
        // One proof by another key than the issuer's fails the issuer-key check; in a set,
        // such proofs are co-signatures (they pass), but one proof must be the issuer's.
        let issuer_key = outcomes(&report, CheckKind::IssuerKey);
        if n == 1 {
            assert_eq!(issuer_key, vec![Outcome::Fail], "{name}: {report:#?}");
        } else {
            let mut expected = vec![Outcome::Pass; n];
            expected.push(Outcome::Fail);
            assert_eq!(issuer_key, expected, "{name}: {report:#?}");
        }
        let last = report
            .checks
            .iter()
            .rfind(|c| c.check == CheckKind::IssuerKey)
            .unwrap();
        assert!(
            last.reason.contains("https://vc.example/issuers/5678"),
            "{name}: {report:#?}"
        );
        assert_eq!(report.verdict, Verdict::Invalid, "{name}: {report:#?}");
    }
}

/// Proof chains (`previousProof`, Data Integrity §4.5): every proof of the chain vectors
/// verifies, the chained ones over the document holding the proofs they name (as in
/// `proofChainTempDoc*.json`, whose `proof` is the list of those proofs). A `previousProof`
/// naming no proof of the document, or a tampered previous proof, fails the chained proof.
///
/// The chained signatures are also checked below with `microcred_rdf` directly, over the
/// vectors' own `proofChainTempDoc*.json`.
#[test]
fn w3c_proof_chain_verify() {
    let keys = KeyRing::new();
    let at = parse_datetime("2024-01-01T00:00:00Z").unwrap();
    for (file, n) in [("signedProofChain1.json", 3), ("signedProofChain2.json", 4)] {
        let (name, bytes) = read(&format!("{SET_DIR}/{file}"));
        let report = verify(bytes.as_bytes(), &VerifyOptions::new(at, &keys));
        assert_eq!(
            outcomes(&report, CheckKind::Proof),
            vec![Outcome::Pass; n],
            "{name}: {report:#?}"
        );
        assert_eq!(
            outcomes(&report, CheckKind::Signature),
            vec![Outcome::Pass; n],
            "{name}: {report:#?}"
        );
        // The keys are not the (https) issuer's, so Invalid here, as for the proof sets.
        assert_eq!(report.verdict, Verdict::Invalid, "{name}: {report:#?}");

        // A previousProof that names no proof: that proof fails, the others still pass.
        let mut doc: Value = serde_json::from_str(&bytes).unwrap();
        let last = doc["proof"].as_array().unwrap().len() - 1;
        doc["proof"][last]["previousProof"] =
            "urn:uuid:00000000-0000-4000-8000-000000000000".into();
        let report = verify(
            &serde_json::to_vec(&doc).unwrap(),
            &VerifyOptions::new(at, &keys),
        );
        let mut expected = vec![Outcome::Pass; n];
        expected[last] = Outcome::Fail;
        assert_eq!(outcomes(&report, CheckKind::Proof), expected, "{name}");
        assert!(report
            .checks
            .iter()
            .any(|c| c.reason.contains("no proof of the credential has that id")));

        // A changed previous proof (its `created`, which its own signature also covers):
        // the first chained proof (the third, which names the first two) no longer verifies
        // either. (In the second vector the fourth names only the third, whose bytes did not
        // change, but the third's failure already fails the credential.)
        let mut doc: Value = serde_json::from_str(&bytes).unwrap();
        doc["proof"][0]["created"] = "2020-01-01T00:00:00Z".into();
        let report = verify(
            &serde_json::to_vec(&doc).unwrap(),
            &VerifyOptions::new(at, &keys),
        );
        let signatures = outcomes(&report, CheckKind::Signature);
        assert_eq!(signatures[0], Outcome::Fail, "{name}");
        assert_eq!(signatures[2], Outcome::Fail, "{name}: {report:#?}");
        assert_eq!(report.verdict, Verdict::Invalid, "{name}");
    }

    // The chained signatures are right, computed over the document with previous proofs.
    let loader = microcred_core::bundled_contexts();
    let opts = microcred_rdf::CanonicalOptions::default();
    for n in 1..=2 {
        let case = format!("{SET_DIR}/proofChainConfigSigned{n}.json");
        let doc = read_json(&format!("{SET_DIR}/proofChainTempDoc{n}.json"));
        let mut config = read_object(&format!("{SET_DIR}/proofChainConfig{n}.json"));
        let signed = read_object(&format!("{SET_DIR}/proofChainConfigSigned{n}.json"));
        assert_eq!(
            without(&signed, "proofValue"),
            config,
            "{case} vs proofChainConfig{n}.json"
        );
        config.insert("@context".into(), doc["@context"].clone());
        let doc_canon = microcred_rdf::canonicalize_document(&doc, loader, &opts).unwrap();
        let config_canon =
            microcred_rdf::canonicalize_document(&Value::Object(config.clone()), loader, &opts)
                .unwrap();
        let mut message = config_canon.sha256().to_vec();
        message.extend_from_slice(&doc_canon.sha256());
        let seed = seed_for(config["verificationMethod"].as_str().unwrap());
        assert_eq!(
            Value::from(z_base58(&ed25519_sign(&seed, &message))),
            signed["proofValue"],
            "{case}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Ed25519Signature2020 (legacy, verify only): digitalbazaar/ed25519-signature-2020 test data

const DB2020: &str = "digitalbazaar-ed25519-signature-2020/test";

/// The proof configuration of an Ed25519Signature2020 proof: the proof without `proofValue`.
/// Hashed like eddsa-rdfc-2022 (with the document's `@context`), so `hash_data` computes it.
fn legacy_proof_value(
    seed: &[u8; 32],
    doc: &Map<String, Value>,
    proof: &Map<String, Value>,
) -> String {
    let config = without(proof, "proofValue");
    let data = hash_data(Cryptosuite::EddsaRdfc2022, doc, &config).unwrap();
    z_base58(&ed25519_sign(seed, &data.hash))
}

/// `test-vectors.js` `signedFixture`: the vc-di-eddsa example credential with an
/// Ed25519Signature2020 proof by the W3C test key (a did:key). The proof is reproduced byte for
/// byte and verifies; the issuer is an https URL, so the key is not the issuer's (Invalid).
#[test]
fn digitalbazaar_ed25519_signature_2020_signed_fixture() {
    let v = read_object(&format!("{DB2020}/test-vectors.extracted.json"));
    let case = format!("tests/vectors/{DB2020}/test-vectors.extracted.json signedFixture");
    let signed = obj(&v["signedFixture"]);
    let proof = obj(&signed["proof"]);
    assert_eq!(proof["type"], "Ed25519Signature2020", "{case}");
    let seed = seed_of(v["keyMaterial"]["secretKeyMultibase"].as_str().unwrap());
    assert_eq!(
        IssuerKey::from_seed(&seed).unwrap().id(),
        proof["verificationMethod"],
        "{case}"
    );
    assert_eq!(
        Value::from(legacy_proof_value(
            &seed,
            &without(&signed, "proof"),
            &proof
        )),
        proof["proofValue"],
        "{case}: proofValue"
    );

    let keys = KeyRing::new();
    let at = parse_datetime("2024-01-01T00:00:00Z").unwrap();
    let bytes = serde_json::to_vec(&signed).unwrap();
    let report = verify(&bytes, &VerifyOptions::new(at, &keys));
    assert_eq!(
        outcomes(&report, CheckKind::Proof),
        [Outcome::Pass],
        "{case}: {report:#?}"
    );
    assert!(
        report.checks[1].reason.contains("Ed25519Signature2020"),
        "{case}: {report:#?}"
    );
    assert_eq!(
        outcomes(&report, CheckKind::Signature),
        [Outcome::Pass],
        "{case}: {report:#?}"
    );
    assert_eq!(
        outcomes(&report, CheckKind::IssuerKey),
        [Outcome::Fail],
        "{case}: {report:#?}"
    );
    assert_eq!(report.verdict, Verdict::Invalid, "{case}: {report:#?}");
    // The same with the controller document the library's tests resolve the key with.
    let mut ring = KeyRing::new();
    ring.add_controller_document(&v["controllerDoc"]).unwrap();
    let again = verify(&bytes, &VerifyOptions::new(at, &ring));
    assert_eq!(
        outcomes(&again, CheckKind::Signature),
        [Outcome::Pass],
        "{case}: {again:#?}"
    );
}

/// `Ed25519Signature2020.spec.js` "should sign a document with a key pair": the VC 1.1 mock
/// credential (with an embedded context) signed by `mockKeyPair2020` (an https controller) at
/// `suite.date` gives the published proofValue. With the library's controller document the
/// credential is Valid; changed, Invalid.
#[test]
fn digitalbazaar_ed25519_signature_2020_vc11_credential() {
    let m = read_object(&format!("{DB2020}/mock-data.extracted.json"));
    let spec = read_object(&format!(
        "{DB2020}/Ed25519Signature2020.spec.extracted.json"
    ));
    let case = format!("tests/vectors/{DB2020}/mock-data.extracted.json + Ed25519Signature2020.spec.extracted.json");
    let pair = &m["mockKeyPair2020"];
    let seed = seed_of(pair["privateKeyMultibase"].as_str().unwrap());
    // The legacy 64-byte private key holds seed ‖ public key.
    assert_eq!(
        hex::encode(&multibase(pair["privateKeyMultibase"].as_str().unwrap())[34..]),
        hex::encode(IssuerKey::from_seed(&seed).unwrap().public_key().to_bytes()),
        "{case}"
    );
    let credential = obj(&m["credential"]);
    // The proof jsonld-signatures writes: type, created, verificationMethod, proofPurpose.
    let mut proof = Map::new();
    proof.insert("type".into(), "Ed25519Signature2020".into());
    proof.insert("created".into(), spec["created"].clone());
    proof.insert("verificationMethod".into(), pair["id"].clone());
    proof.insert("proofPurpose".into(), "assertionMethod".into());
    let proof_value = legacy_proof_value(&seed, &credential, &proof);
    assert_eq!(
        Value::from(proof_value.clone()),
        spec["proofValue"],
        "{case}: proofValue"
    );
    proof.insert("proofValue".into(), proof_value.into());
    let mut signed = credential.clone();
    signed.insert("proof".into(), Value::Object(proof));
    let bytes = serde_json::to_vec(&signed).unwrap();

    let mut keys = KeyRing::new();
    keys.add_controller_document(&m["controllerDoc2020"])
        .unwrap();
    let at = parse_datetime("2024-01-01T00:00:00Z").unwrap();
    let report = verify(&bytes, &VerifyOptions::new(at, &keys));
    assert_eq!(report.verdict, Verdict::Valid, "{case}: {report:#?}");
    assert!(
        report.checks[0].reason.contains("VC 1.1"),
        "{case}: {report:#?}"
    );
    // Without the controller document the https key cannot be resolved offline.
    let report = verify(&bytes, &VerifyOptions::new(at, &KeyRing::new()));
    assert_eq!(
        report.verdict,
        Verdict::Indeterminate,
        "{case}: {report:#?}"
    );
    // Changed after signing.
    let mut tampered = Value::Object(signed);
    tampered["credentialSubject"]["alumniOf"] = "Example University!".into();
    let report = verify(
        &serde_json::to_vec(&tampered).unwrap(),
        &VerifyOptions::new(at, &keys),
    );
    assert_eq!(
        outcomes(&report, CheckKind::Signature),
        [Outcome::Fail],
        "{case}: {report:#?}"
    );
    assert_eq!(report.verdict, Verdict::Invalid, "{case}: {report:#?}");
}

// ---------------------------------------------------------------------------------------------
// Bitstring Status List v1.0 (research-derived, see SOURCES.md): decoded bits, never strings.

#[test]
fn bitstring_status_list_encoded_list() {
    use microcred_core::{Bitstring, MIN_STATUS_LIST_ENTRIES};
    let rel = "research-derived/bitstring-status-list/encodedList-example.json";
    let v = read_object(rel);
    let case = format!("tests/vectors/{rel}");
    let encoded = v["encodedList"].as_str().unwrap();
    let bits = Bitstring::decode(encoded).unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_eq!(bits.len(), MIN_STATUS_LIST_ENTRIES, "{case}: length");
    let expected_set: Vec<u64> = v["setIndexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap())
        .collect();
    assert_eq!(
        bits.set_indexes().collect::<Vec<_>>(),
        expected_set,
        "{case}: set bits"
    );
    for (index, want) in v["expectedStatusAt"].as_object().unwrap() {
        let index: u64 = index.parse().unwrap();
        let want = want.as_u64().unwrap() == 1;
        assert_eq!(bits.get(index), Some(want), "{case}: bit {index}");
    }
    // Our encoder's output decodes to the same bits (its bytes may differ: GZIP headers).
    let mut ours = Bitstring::new(MIN_STATUS_LIST_ENTRIES).unwrap();
    for i in &expected_set {
        ours.set(*i, true).unwrap();
    }
    assert_eq!(Bitstring::decode(&ours.encode()).unwrap(), bits, "{case}");
    // The spec's Example 3: 131,072 zero bits.
    let zero = Bitstring::decode(v["specExampleAllZero"].as_str().unwrap())
        .unwrap_or_else(|e| panic!("{case} specExampleAllZero: {e}"));
    assert_eq!(
        zero.len(),
        MIN_STATUS_LIST_ENTRIES,
        "{case}: spec example length"
    );
    assert_eq!(zero.count_set(), 0, "{case}: spec example is all zero");
}
