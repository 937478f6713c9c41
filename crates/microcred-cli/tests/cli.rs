//! Runs the built `microcred` binary the way a newcomer, an institution and an employer would.

// Test helpers (outside #[test] functions) may unwrap: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bin, code, example_achievement, read_json, repo, run, run_issue, text};

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

/// A temp dir with a fresh key; returns (dir, key path, DID).
fn setup() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["keygen", "--out", "key.json"], dir.path());
    assert_eq!(code(&o), 0, "{}", text(&o));
    let did = String::from_utf8(o.stdout).unwrap().trim().to_owned();
    assert!(did.starts_with("did:key:z6Mk"), "{did}");
    let key = dir.path().join("key.json");
    (dir, key, did)
}

fn issue(dir: &Path, achievement: &str, recipient: &str, out: &str) -> Output {
    let score = match achievement {
        "df-102.json" => "portfolio=86",
        "df-103.json" => "practical-exam=86",
        _ => "final-assessment=86",
    };
    run_issue(
        dir,
        "key.json",
        &example_achievement(achievement),
        &[
            "--recipient",
            recipient,
            "--result",
            score,
            "--result",
            "status=Completed",
            "--out",
            out,
        ],
    )
}

#[test]
fn newcomer_flow_keygen_issue_verify() {
    let (dir, _key, did) = setup();
    let o = issue(
        dir.path(),
        "df-101.json",
        "did:example:learner1",
        "cred.json",
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let cred = read_json(&dir.path().join("cred.json"));
    assert_eq!(cred["issuer"]["id"], did.as_str());
    assert_eq!(
        cred["credentialSubject"]["achievement"]["achievementType"],
        "MicroCredential"
    );
    assert_eq!(
        cred["proof"]["cryptosuite"], "eddsa-rdfc-2022",
        "rdfc is the OB 3.0 default"
    );
    assert_eq!(cred["credentialSubject"]["result"][0]["value"], "86");

    let o = run(&["verify", "cred.json"], dir.path());
    assert_eq!(code(&o), 0, "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("VALID"), "{out}");
    assert!(out.contains("Digital Fluency 1"), "{out}");

    let o = run(&["verify", "--json", "cred.json", "cred.json"], dir.path());
    assert_eq!(code(&o), 0, "{}", text(&o));
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["verdict"], "valid");
    assert!(lines[0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["check"] == "status" && c["outcome"] == "not_checked"));
}

#[test]
fn non_ascii_and_email_recipient() {
    let (dir, _key, _did) = setup();
    let o = issue(
        dir.path(),
        "df-101-fr.json",
        "Amara.Okafor@Example.org",
        "fr.json",
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let raw = std::fs::read_to_string(dir.path().join("fr.json")).unwrap();
    assert!(raw.contains("Littératie numérique"));
    assert!(
        !raw.to_lowercase().contains("amara.okafor@example.org"),
        "e-mail must be hashed"
    );
    let cred: Value = serde_json::from_str(&raw).unwrap();
    let idf = &cred["credentialSubject"]["identifier"][0];
    assert_eq!(idf["hashed"], true);
    assert!(idf["identityHash"].as_str().unwrap().starts_with("sha256$"));
    let o = run(&["verify", "fr.json"], dir.path());
    assert_eq!(code(&o), 0, "{}", text(&o));
}

#[test]
fn tampered_credential_exits_1() {
    let (dir, _key, _did) = setup();
    assert_eq!(
        code(&issue(
            dir.path(),
            "df-102.json",
            "did:example:l2",
            "c.json"
        )),
        0
    );
    let raw = std::fs::read_to_string(dir.path().join("c.json")).unwrap();
    for (from, to) in [
        ("\"86\"", "\"99\""),
        ("Creating Digital Content", "Creating Digital Contents"),
        ("did:example:l2", "did:example:l3"),
    ] {
        assert!(raw.contains(from), "{from}");
        std::fs::write(dir.path().join("t.json"), raw.replacen(from, to, 1)).unwrap();
        let o = run(&["verify", "t.json"], dir.path());
        assert_eq!(code(&o), 1, "{from}: {}", text(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("INVALID"));
    }
    // One valid and one tampered: invalid wins.
    let o = run(&["verify", "c.json", "t.json"], dir.path());
    assert_eq!(code(&o), 1, "{}", text(&o));
}

#[test]
fn garbage_exits_2_with_a_clear_message_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let deep = "[".repeat(100_000);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.json", Vec::new()),
        ("text.json", b"hello world".to_vec()),
        ("binary.json", vec![0xff, 0xfe, 0x00, 0x81]),
        ("deep.json", deep.into_bytes()),
        ("badge.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()),
        ("number.json", b"42".to_vec()),
    ];
    for (name, bytes) in &cases {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    for (name, _) in &cases {
        let o = run(&["verify", name], dir.path());
        let all = text(&o);
        assert!(!all.contains("panicked"), "{name}: {all}");
        let expected = if *name == "number.json" { 1 } else { 2 };
        assert_eq!(code(&o), expected, "{name}: {all}");
    }
    let o = run(&["verify", "missing.json"], dir.path());
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("cannot open missing.json"));
    // JSON output for garbage is still one JSON object.
    let o = run(&["verify", "--json", "text.json"], dir.path());
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "indeterminate");
}

#[test]
fn duplicate_member_names_are_invalid() {
    let (dir, _key, _did) = setup();
    assert_eq!(
        code(&issue(dir.path(), "df-103.json", "did:example:l", "c.json")),
        0
    );
    let raw = std::fs::read_to_string(dir.path().join("c.json")).unwrap();
    let dup = raw.replacen("{", "{\n  \"name\": \"Forged\",", 1);
    std::fs::write(dir.path().join("dup.json"), dup).unwrap();
    let o = run(&["verify", "dup.json"], dir.path());
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("duplicate member name"));
}

#[test]
fn pinned_issuer_key_rejects_other_keys() {
    let (dir, _key, did) = setup();
    assert_eq!(
        code(&issue(dir.path(), "df-101.json", "did:example:l", "c.json")),
        0
    );
    let mb = did.trim_start_matches("did:key:");
    let o = run(&["verify", "--issuer-key", mb, "c.json"], dir.path());
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = run(
        &["verify", "--issuer-key", "key.json", "c.json"],
        dir.path(),
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let other = run(&["keygen", "--out", "other.json"], dir.path());
    let other_did = String::from_utf8(other.stdout).unwrap();
    let o = run(
        &[
            "verify",
            "--issuer-key",
            other_did.trim().trim_start_matches("did:key:"),
            "c.json",
        ],
        dir.path(),
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("not the institution key you pinned"));
}

#[test]
fn trust_list_unknown_and_trusted() {
    let (dir, _key, did) = setup();
    assert_eq!(
        code(&issue(dir.path(), "df-101.json", "did:example:l", "c.json")),
        0
    );
    std::fs::write(
        dir.path().join("empty-trust.json"),
        r#"{"institutions": []}"#,
    )
    .unwrap();
    let trust = serde_json::json!({"institutions": [{"name": "Northbridge College", "id": did, "keys": [did.trim_start_matches("did:key:")]}]});
    std::fs::write(dir.path().join("trust.json"), trust.to_string()).unwrap();
    let o = run(
        &["verify", "--trust", "empty-trust.json", "c.json"],
        dir.path(),
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("unknown, not trusted"));
    let o = run(
        &[
            "verify",
            "--trust",
            "empty-trust.json",
            "--require-trusted",
            "c.json",
        ],
        dir.path(),
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    let o = run(
        &[
            "verify",
            "--trust",
            "trust.json",
            "--require-trusted",
            "c.json",
        ],
        dir.path(),
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("on your trust list as \"Northbridge College\""));
}

#[test]
fn validity_window_is_checked_at_the_given_time() {
    let (dir, _key, _did) = setup();
    let o = run_issue(
        dir.path(),
        "key.json",
        &example_achievement("df-101.json"),
        &[
            "--recipient",
            "did:example:l",
            "--valid-from",
            "2025-01-01T00:00:00Z",
            "--valid-until",
            "2026-01-01T00:00:00Z",
            "--out",
            "c.json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(
        code(&run(
            &["verify", "--at", "2025-06-01T00:00:00Z", "c.json"],
            dir.path()
        )),
        0
    );
    let o = run(
        &["verify", "--at", "2024-06-01T00:00:00Z", "c.json"],
        dir.path(),
    );
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stdout).contains("not yet valid"));
    let o = run(
        &["verify", "--at", "2026-06-01T00:00:00Z", "c.json"],
        dir.path(),
    );
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stdout).contains("expired"));
}

#[test]
fn lint_blocks_signing_and_sign_checks_the_issuer() {
    let (dir, _key, did) = setup();
    // A MicroCredential without quality assurance or learning mode: warnings without a
    // profile, errors under the EU 2022 profile.
    let mut ach: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("examples/achievements/df-101.json")).unwrap(),
    )
    .unwrap();
    ach.as_object_mut().unwrap().remove("qualityAssurance");
    ach.as_object_mut().unwrap().remove("learningMode");
    std::fs::write(dir.path().join("ach.json"), ach.to_string()).unwrap();
    for (profile, exit) in [(None, 0), (Some("eu-2022"), 1)] {
        let mut args = vec!["lint", "ach.json"];
        args.extend(profile.iter().flat_map(|p| ["--profile", *p]));
        let o = run(&args, dir.path());
        assert_eq!(code(&o), exit, "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("eu.qualityAssurance") && out.contains("eu.formOfParticipation"),
            "{out}"
        );
    }
    let o = run_issue(
        dir.path(),
        "key.json",
        Path::new("ach.json"),
        &["--recipient", "did:example:l", "--profile", "eu-2022"],
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(o.stdout.is_empty(), "nothing signed may reach stdout");

    // sign: an unsigned credential naming another issuer is refused unless --set-issuer.
    let unsigned = serde_json::json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://college.example/ctx/v1"],
        "type": ["VerifiableCredential"],
        "issuer": "https://other.example/issuer",
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abc", "note": "Café ✓"}
    });
    std::fs::write(dir.path().join("u.json"), unsigned.to_string()).unwrap();
    // The context is not bundled: refused, naming the URL, until it is supplied.
    let o = run(
        &["sign", "--key", "key.json", "--set-issuer", "u.json"],
        dir.path(),
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("https://college.example/ctx/v1"),
        "{}",
        text(&o)
    );
    std::fs::write(
        dir.path().join("ctx.json"),
        r#"{"@context": {"@protected": true, "note": "https://college.example/vocab#note"}}"#,
    )
    .unwrap();
    let ctx = "--context=https://college.example/ctx/v1=ctx.json";
    let o = run(&["sign", "--key", "key.json", ctx, "u.json"], dir.path());
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--set-issuer"));
    let o = run(
        &[
            "sign",
            "--key",
            "key.json",
            ctx,
            "--set-issuer",
            "--created",
            "2025-02-01T00:00:00Z",
            "--out",
            "s.json",
            "u.json",
        ],
        dir.path(),
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let s = read_json(&dir.path().join("s.json"));
    assert_eq!(s["issuer"], did.as_str());
    assert_eq!(s["proof"]["created"], "2025-02-01T00:00:00Z");
    let o = run(&["verify", "s.json"], dir.path());
    assert_eq!(
        code(&o),
        2,
        "without the context the credential cannot be checked: {}",
        text(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("--context"),
        "{}",
        text(&o)
    );
    assert_eq!(code(&run(&["verify", ctx, "s.json"], dir.path())), 0);
    // Safe mode: a term no context defines would not be signed, so signing is refused.
    let mut undefined = unsigned.clone();
    undefined["credentialSubject"]["undefinedThing"] = serde_json::json!(1);
    std::fs::write(dir.path().join("undef.json"), undefined.to_string()).unwrap();
    for suite in ["eddsa-rdfc-2022", "eddsa-jcs-2022"] {
        let o = run(
            &[
                "sign",
                "--key",
                "key.json",
                ctx,
                "--set-issuer",
                "--suite",
                suite,
                "undef.json",
            ],
            dir.path(),
        );
        assert_eq!(code(&o), 1, "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("credentialSubject.undefinedThing"),
            "{}",
            text(&o)
        );
    }
    // A proof set: sign again with the other suite; both proofs verify.
    let o = run(
        &[
            "sign",
            "--key",
            "key.json",
            ctx,
            "--suite",
            "eddsa-jcs-2022",
            "--out",
            "both.json",
            "s.json",
        ],
        dir.path(),
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let both = read_json(&dir.path().join("both.json"));
    assert_eq!(both["proof"].as_array().map(Vec::len), Some(2));
    let o = run(&["verify", ctx, "both.json"], dir.path());
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("proof 2 of the set"));
    // Unknown suite: a clear usage error.
    let o = run(
        &[
            "sign",
            "--key",
            "key.json",
            "--suite",
            "ecdsa-rdfc-2019",
            "s.json",
        ],
        dir.path(),
    );
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("unsupported cryptosuite"));
}

/// `sign` lints with the core: an Open Badges field of the wrong JSON type (here an
/// achievement name that is a number) is refused, naming its path, and nothing is signed.
#[test]
fn sign_refuses_wrongly_typed_fields() {
    let (dir, _key, _did) = setup();
    let o = issue(dir.path(), "df-101.json", "did:example:typed", "c.json");
    assert_eq!(code(&o), 0, "{}", text(&o));
    let mut c = read_json(&dir.path().join("c.json"));
    c.as_object_mut().unwrap().remove("proof");
    c["credentialSubject"]["achievement"]["name"] = serde_json::json!(42);
    std::fs::write(dir.path().join("typed.json"), c.to_string()).unwrap();
    let o = run(&["sign", "--key", "key.json", "typed.json"], dir.path());
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(o.stdout.is_empty(), "nothing signed may reach stdout");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("ob.type.name") && err.contains("credentialSubject.achievement.name"),
        "{err}"
    );
}

#[test]
fn batch_issuance_is_parallel_resumable_and_atomic() {
    let (dir, _key, _did) = setup();
    let mut csv = String::from("recipient,result:final-assessment,result:status,evidence\n");
    for i in 0..60 {
        csv.push_str(&format!(
            "did:example:learner{i},{},Completed,https://portfolio.example/{i}\n",
            70 + i % 30
        ));
    }
    csv.push_str("not a recipient,80,Completed,\n");
    csv.push_str("learner7@example.org,90,Completed,\n");
    std::fs::write(dir.path().join("cohort.csv"), &csv).unwrap();
    let issue_cohort = || {
        run_issue(
            dir.path(),
            "key.json",
            &example_achievement("df-101.json"),
            &["--recipients", "cohort.csv", "--out-dir", "out"],
        )
    };
    let o = issue_cohort();
    assert_eq!(code(&o), 1, "one bad row: {}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("61 issued, 0 already present (kept), 1 failed, 62 rows"),
        "{out}"
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("row 62"),
        "{}",
        text(&o)
    );
    let files: Vec<PathBuf> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 61, "no temporary files left behind");
    // Remove some outputs (as if interrupted) and resume: only those are issued again.
    for f in files.iter().take(5) {
        std::fs::remove_file(f).unwrap();
    }
    let o = issue_cohort();
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("5 issued, 56 already present (kept), 1 failed"),
        "{}",
        text(&o)
    );
    let mut all: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    all.sort();
    let mut verify_args = vec!["verify".to_owned()];
    verify_args.extend(all);
    let o = bin()
        .args(&verify_args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o));
}

/// A temp dir with a `did:web` key (`key.json`) and its DID document (`did.json`).
fn did_web_setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        &[
            "keygen",
            "--out",
            "key.json",
            "--controller",
            "did:web:credentials.northbridge.example",
        ],
        dir.path(),
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "did:web:credentials.northbridge.example"
    );
    let o = run(
        &["did-doc", "--key", "key.json", "--out", "did.json"],
        dir.path(),
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    dir
}

#[test]
fn did_web_issuer_verifies_only_with_its_document() {
    let dir = did_web_setup();
    assert_eq!(
        code(&issue(dir.path(), "df-101.json", "did:example:l", "c.json")),
        0
    );
    let o = run(&["verify", "c.json"], dir.path());
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("cannot resolve verification method"));
    let o = run(&["verify", "--did-doc", "did.json", "c.json"], dir.path());
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = run(
        &["verify", "--issuer-key", "did.json", "c.json"],
        dir.path(),
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
}

/// W3C Controlled Identifiers: a verification method saved on its own (as served at its URL)
/// works wherever a DID document does; a document naming another key is refused.
#[test]
fn standalone_verification_method_document_works_as_did_doc_and_issuer_key() {
    let dir = did_web_setup();
    let did = read_json(&dir.path().join("did.json"));
    let mut vm = did["verificationMethod"][0].clone();
    vm["@context"] = Value::from("https://www.w3.org/ns/cid/v1");
    assert!(vm.get("controller").is_some() && vm.get("publicKeyMultibase").is_some());
    std::fs::write(dir.path().join("vm.json"), vm.to_string()).unwrap();
    assert_eq!(
        code(&issue(dir.path(), "df-101.json", "did:example:l", "c.json")),
        0
    );
    for flag in ["--did-doc", "--issuer-key"] {
        let o = run(&["verify", flag, "vm.json", "c.json"], dir.path());
        assert_eq!(code(&o), 0, "{flag}: {}", text(&o));
    }
    // The same method document with another key: the signature does not verify.
    let other = setup();
    let other_key = read_json(&other.1);
    vm["publicKeyMultibase"] = other_key["publicKeyMultibase"].clone();
    std::fs::write(dir.path().join("vm-other.json"), vm.to_string()).unwrap();
    let o = run(
        &["verify", "--did-doc", "vm-other.json", "c.json"],
        dir.path(),
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
}

#[test]
fn keys_are_private_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["keygen", "--out", "k.json"], dir.path());
    let key = read_json(&dir.path().join("k.json"));
    let secret = key["secretKeyMultibase"].as_str().unwrap();
    assert!(secret.starts_with("z3u2"));
    assert!(!text(&o).contains(secret));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("k.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "key file must not be readable by others");
    }
    let o = run(&["keygen", "--out", "k.json"], dir.path());
    assert_eq!(code(&o), 2, "never overwrite a key");
    let o = run(&["did-doc", "--key", "k.json"], dir.path());
    assert!(!text(&o).contains(secret));
}

#[test]
fn example_key_and_help() {
    let o = run(&["--help"], &repo());
    assert_eq!(code(&o), 0);
    for sub in ["keygen", "did-doc", "sign", "issue", "verify", "lint"] {
        let o = run(&[sub, "--help"], &repo());
        assert_eq!(code(&o), 0, "{sub}");
    }
    // The bundled example key is usable.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("keys-example/issuer-key.json"),
        dir.path().join("key.json"),
    )
    .unwrap();
    let o = issue(dir.path(), "df-103.json", "did:example:l", "c.json");
    assert_eq!(code(&o), 0, "{}", text(&o));
}
