//! `microcred verify CERT --component FILE...` as an employer runs it: the Digital Fluency
//! series issued with the built `microcred issue` (DF-101, DF-102, DF-103 and the certificate
//! that lists them as evidence), then checked as a stack — valid (exit 0) with each required
//! achievement named with the file that satisfies it; a missing part, a different learner,
//! components outside the certificate's three-year window, a tampered component, and a
//! component of another college the employer has not listed as trusted all exit 1 with the
//! reason on the requirement; listing that college with `--trust` makes it count. E-mail
//! recipients need `--learner` to be compared.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{code, example_achievement, run, run_issue, text};
use serde_json::Value;

const LEARNER: &str = "did:example:4a7c1e9b2d5f48c0a1e3b6d9f2c8a0e5";

fn keygen(dir: &Path, file: &str) -> String {
    let o = run(&["keygen", "--out", file], dir);
    assert_eq!(code(&o), 0, "{}", text(&o));
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// Issues `achievement` (`df-101`, ...) with `key` to `recipient`, awarded `at`, into `out`;
/// returns the credential's id.
fn issue(
    dir: &Path,
    key: &str,
    achievement: &str,
    recipient: &str,
    at: &str,
    out: &str,
    extra: &[&str],
) -> String {
    let mut args = vec![
        "--recipient",
        recipient,
        "--result",
        "status=Completed",
        "--valid-from",
        at,
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    let o = run_issue(
        dir,
        key,
        &example_achievement(&format!("{achievement}.json")),
        &args,
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let v: Value = serde_json::from_slice(&std::fs::read(dir.join(out)).unwrap()).unwrap();
    v["id"].as_str().unwrap().to_owned()
}

/// The three components (DID recipient) and the certificate listing them.
fn series(dir: &Path) {
    keygen(dir, "northbridge.json");
    let mut evidence = Vec::new();
    for (name, at) in [
        ("df-101", "2025-02-21T17:00:00Z"),
        ("df-102", "2025-03-28T17:00:00Z"),
        ("df-103", "2025-05-02T17:00:00Z"),
    ] {
        evidence.push(issue(
            dir,
            "northbridge.json",
            name,
            LEARNER,
            at,
            &format!("{name}.json"),
            &[],
        ));
    }
    let mut extra = Vec::new();
    for id in &evidence {
        extra.push("--evidence");
        extra.push(id.as_str());
    }
    issue(
        dir,
        "northbridge.json",
        "df-certificate",
        LEARNER,
        "2025-05-23T17:00:00Z",
        "cert.json",
        &extra,
    );
}

/// `microcred verify cert.json --component ... --json EXTRA`: exit code and the JSON report.
fn verify_stack(dir: &Path, components: &[&str], extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "verify",
        "cert.json",
        "--json",
        "--at",
        "2026-01-15T12:00:00Z",
    ];
    for c in components {
        args.push("--component");
        args.push(c);
    }
    args.extend_from_slice(extra);
    let o = run(&args, dir);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    (code(&o), v)
}

const PARTS: [&str; 3] = ["df-101.json", "df-102.json", "df-103.json"];

#[test]
fn the_series_verifies_as_a_stack() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    series(d);
    let (c, v) = verify_stack(d, &PARTS, &[]);
    assert_eq!(c, 0, "{v:#}");
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["credential"]["verdict"], "valid");
    let reqs = v["stack"]["requirements"].as_array().unwrap();
    assert_eq!(reqs.len(), 3);
    for (req, file) in reqs.iter().zip(PARTS) {
        let part: Value = serde_json::from_slice(&std::fs::read(d.join(file)).unwrap()).unwrap();
        assert_eq!(req["satisfiedBy"], part["id"], "{req}");
    }
    // The human report names each requirement with the file that satisfies it.
    let o = run(
        &[
            "verify",
            "cert.json",
            "--at",
            "2026-01-15T12:00:00Z",
            "--component",
            "df-101.json",
            "--component",
            "df-102.json",
            "--component",
            "df-103.json",
        ],
        d,
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        out.contains("cert.json: STACK VALID \"Digital Fluency Certificate\""),
        "{out}"
    );
    assert!(
        out.contains("It requires all 3 of the required achievements, awarded within P3Y."),
        "{out}"
    );
    assert!(out.contains("satisfied by df-102.json (urn:uuid:"), "{out}");
}

#[test]
fn what_does_not_stack_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    series(d);

    // A missing part.
    let (c, v) = verify_stack(d, &PARTS[..2], &[]);
    assert_eq!(c, 1, "{v:#}");
    assert!(v["stack"]["requirements"][2]["reason"]
        .as_str()
        .unwrap()
        .contains("no credential given"));

    // A different learner's DF-102.
    issue(
        d,
        "northbridge.json",
        "df-102",
        "did:example:someone-else",
        "2025-03-28T17:00:00Z",
        "other-102.json",
        &[],
    );
    let (c, v) = verify_stack(d, &["df-101.json", "other-102.json", "df-103.json"], &[]);
    assert_eq!(c, 1);
    assert!(
        v["stack"]["requirements"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("different learner"),
        "{v:#}"
    );

    // A DF-101 earned four years before the certificate: outside P3Y.
    issue(
        d,
        "northbridge.json",
        "df-101",
        LEARNER,
        "2021-02-21T17:00:00Z",
        "old-101.json",
        &[],
    );
    let (c, v) = verify_stack(d, &["old-101.json", "df-102.json", "df-103.json"], &[]);
    assert_eq!(c, 1);
    let window = v["stack"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "window")
        .unwrap()
        .clone();
    assert_eq!(window["outcome"], "fail", "{v:#}");

    // A tampered DF-103.
    let text103 = std::fs::read_to_string(d.join("df-103.json")).unwrap();
    std::fs::write(
        d.join("tampered-103.json"),
        text103.replace("Completed", "Complete "),
    )
    .unwrap();
    let (c, v) = verify_stack(d, &["df-101.json", "df-102.json", "tampered-103.json"], &[]);
    assert_eq!(c, 1);
    assert!(
        v["stack"]["requirements"][2]["reason"]
            .as_str()
            .unwrap()
            .contains("does not verify"),
        "{v:#}"
    );
    assert_eq!(v["components"][2]["verdict"], "invalid");
}

#[test]
fn another_college_counts_when_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    series(d);
    let lakeshore = keygen(d, "lakeshore.json");
    let northbridge: Value =
        serde_json::from_slice(&std::fs::read(d.join("cert.json")).unwrap()).unwrap();
    let northbridge = northbridge["issuer"]["id"].as_str().unwrap().to_owned();
    issue(
        d,
        "lakeshore.json",
        "df-102",
        LEARNER,
        "2025-03-28T17:00:00Z",
        "lakeshore-102.json",
        &[],
    );
    let parts = ["df-101.json", "lakeshore-102.json", "df-103.json"];
    let (c, v) = verify_stack(d, &parts, &[]);
    assert_eq!(c, 1);
    assert!(
        v["stack"]["components"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("trust list"),
        "{v:#}"
    );
    std::fs::write(
        d.join("trust.json"),
        serde_json::json!({"institutions": [
            {"name": "Northbridge College", "id": northbridge},
            {"name": "Lakeshore College", "id": lakeshore},
        ]})
        .to_string(),
    )
    .unwrap();
    let (c, v) = verify_stack(d, &parts, &["--trust", "trust.json"]);
    assert_eq!(c, 0, "{v:#}");
}

#[test]
fn e_mail_recipients_are_compared_with_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(d, "northbridge.json");
    let email = "amara.okafor@example.org";
    for (name, at) in [
        ("df-101", "2025-02-21T17:00:00Z"),
        ("df-102", "2025-03-28T17:00:00Z"),
        ("df-103", "2025-05-02T17:00:00Z"),
        ("df-certificate", "2025-05-23T17:00:00Z"),
    ] {
        let out = if name == "df-certificate" {
            "cert.json".to_owned()
        } else {
            format!("{name}.json")
        };
        issue(d, "northbridge.json", name, email, at, &out, &[]);
    }
    // Each credential has its own salt: nothing to compare without the address.
    let (c, v) = verify_stack(d, &PARTS, &[]);
    assert_eq!(c, 2, "{v:#}");
    let (c, v) = verify_stack(d, &PARTS, &["--learner", email]);
    assert_eq!(c, 0, "{v:#}");
    // One file to check with components: several files are refused.
    let o = run(
        &[
            "verify",
            "cert.json",
            "df-101.json",
            "--component",
            "df-102.json",
        ],
        d,
    );
    assert_eq!(code(&o), 2, "{}", text(&o));
}

/// `microcred clr` of the series, then `microcred verify` of the record.
#[test]
fn a_clr_of_the_series_verifies_offline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    series(d);
    let o = run(
        &[
            "clr",
            "--key",
            "northbridge.json",
            "--name",
            "Digital Fluency pathway record",
            "--precedes",
            "DF-101=DF-102",
            "--precedes",
            "DF-101=DF-103",
            "--out",
            "clr.json",
            "--valid-from",
            "2025-05-23T17:05:00Z",
            "df-101.json",
            "df-102.json",
            "df-103.json",
            "cert.json",
        ],
        d,
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let record: Value =
        serde_json::from_slice(&std::fs::read(d.join("clr.json")).unwrap()).unwrap();
    assert_eq!(
        record["type"],
        serde_json::json!(["VerifiableCredential", "ClrCredential"])
    );
    // Embedded byte-for-byte as values: each is the issued credential.
    let first: Value =
        serde_json::from_slice(&std::fs::read(d.join("df-101.json")).unwrap()).unwrap();
    assert_eq!(
        record["credentialSubject"]["verifiableCredential"][0],
        first
    );

    let o = run(&["verify", "clr.json", "--at", "2026-01-15T12:00:00Z"], d);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(out.contains("clr.json: RECORD VALID"), "{out}");
    assert!(
        out.contains("precedes https://credentials.northbridge.example/achievements/df-102: pass"),
        "{out}"
    );
    assert!(out.contains("pathway https://credentials.northbridge.example/achievements/df-certificate: satisfied"), "{out}");
    let o = run(
        &[
            "verify",
            "clr.json",
            "--json",
            "--at",
            "2026-01-15T12:00:00Z",
        ],
        d,
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["clr"]["verdict"], "valid", "{v:#}");
    assert_eq!(v["clr"]["credentials"].as_array().unwrap().len(), 4);
    assert_eq!(v["clr"]["stacks"][0]["verdict"], "valid");

    // A changed record: its own proof fails (exit 1).
    let text_ = std::fs::read_to_string(d.join("clr.json")).unwrap();
    std::fs::write(
        d.join("changed.json"),
        text_.replace("Digital Fluency pathway record", "Another record"),
    )
    .unwrap();
    let o = run(
        &["verify", "changed.json", "--at", "2026-01-15T12:00:00Z"],
        d,
    );
    assert_eq!(code(&o), 1, "{}", text(&o));

    // A credential that does not verify is not put into a record.
    let t = std::fs::read_to_string(d.join("df-103.json")).unwrap();
    std::fs::write(
        d.join("tampered-103.json"),
        t.replace("Completed", "Complete "),
    )
    .unwrap();
    let o = run(
        &[
            "clr",
            "--key",
            "northbridge.json",
            "--name",
            "R",
            "df-101.json",
            "tampered-103.json",
        ],
        d,
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("tampered-103.json: does not verify"));

    // Nor credentials of two learners.
    issue(
        d,
        "northbridge.json",
        "df-102",
        "did:example:someone-else",
        "2025-03-28T17:00:00Z",
        "other-102.json",
        &[],
    );
    let o = run(
        &[
            "clr",
            "--key",
            "northbridge.json",
            "--name",
            "R",
            "df-101.json",
            "other-102.json",
        ],
        d,
    );
    assert_ne!(code(&o), 0, "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("another learner"),
        "{}",
        text(&o)
    );
}
