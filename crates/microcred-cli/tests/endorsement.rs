//! `microcred endorse`, then `issue` and `verify` with the endorsement embedded: an industry
//! council endorses the DF-101 achievement, the college embeds the signed endorsement in its
//! achievement definition and issues a credential from it, and a verifier sees the
//! endorsement (unknown without a trust list, trusted with one listing the council, invalid
//! when altered) without any effect on the credential's verdict or exit code.

// Test helpers (outside #[test] functions) may unwrap: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{code, example_achievement, read_json, run, run_issue, text};

use std::path::Path;

use serde_json::{json, Value};

const COMMENT: &str = "Meets the digital skills our members hire for.";

/// `microcred keygen --out FILE` in `dir`: the key's DID.
fn keygen(dir: &Path, file: &str) -> String {
    let o = run(&["keygen", "--out", file], dir);
    assert_eq!(code(&o), 0, "{}", text(&o));
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// Endorses DF-101 with `council.json` (both cryptosuites are cheap to use: `suite`), embeds
/// the endorsement (changed by `alter`) in a copy of the achievement, and issues `c.json`.
fn endorsed_credential(dir: &Path, suite: &str, alter: impl Fn(&mut Value)) {
    let achievement = example_achievement("df-101.json");
    let o = run(
        &[
            "endorse",
            "--key",
            "council.json",
            "--subject",
            achievement.to_str().unwrap(),
            "--endorser-name",
            "Acme Industry Council",
            "--comment",
            COMMENT,
            "--valid-from",
            "2025-12-01T00:00:00Z",
            "--suite",
            suite,
            "--out",
            "endorsement.json",
        ],
        dir,
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let mut endorsement = read_json(&dir.join("endorsement.json"));
    assert_eq!(
        endorsement["type"],
        json!(["VerifiableCredential", "EndorsementCredential"])
    );
    assert_eq!(
        endorsement["credentialSubject"]["id"],
        "https://credentials.northbridge.example/achievements/df-101"
    );
    assert!(endorsement["proof"]["proofValue"].is_string());
    alter(&mut endorsement);

    let mut definition = read_json(&achievement);
    definition["endorsement"] = json!([endorsement]);
    std::fs::write(
        dir.join("df-101-endorsed.json"),
        serde_json::to_vec_pretty(&definition).unwrap(),
    )
    .unwrap();
    let o = run_issue(
        dir,
        "college.json",
        &dir.join("df-101-endorsed.json"),
        &[
            "--recipient",
            "did:example:learner",
            "--result",
            "final-assessment=86",
            "--result",
            "status=Completed",
            "--suite",
            suite,
            "--out",
            "c.json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
}

#[test]
fn endorse_issue_and_verify_an_endorsed_achievement() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(d, "college.json");
    let council = keygen(d, "council.json");
    for suite in ["eddsa-rdfc-2022", "eddsa-jcs-2022"] {
        endorsed_credential(d, suite, |_| {});

        // Human report: the endorsement line, unknown without a trust list.
        let o = run(&["verify", "c.json"], d);
        assert_eq!(code(&o), 0, "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with("endorsement"))
            .unwrap_or_else(|| panic!("no endorsement line:\n{out}"));
        assert!(line.contains("unknown"), "{line}");
        assert!(
            line.contains(&format!(
                "Acme Industry Council ({council}) endorses the achievement: \"{COMMENT}\""
            )),
            "{line}"
        );

        // JSON report: the endorsement's fields.
        let o = run(&["verify", "--json", "c.json"], d);
        assert_eq!(code(&o), 0, "{}", text(&o));
        let report: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(report["verdict"], "valid");
        let e = &report["endorsements"][0];
        assert_eq!(e["path"], "credentialSubject.achievement.endorsement[0]");
        assert_eq!(e["endorses"], "achievement");
        assert_eq!(e["endorser"], council.as_str());
        assert_eq!(e["endorser_name"], "Acme Industry Council");
        assert_eq!(e["subject_matches"], true);
        assert_eq!(e["comment"], COMMENT);
        assert_eq!(e["verdict"], "valid");
        assert_eq!(e["trust"], "unknown");
    }

    // With a trust list that lists the council (not the college): the endorser is trusted,
    // the credential's exit code is what it was.
    let trust = json!({"institutions": [{"name": "Acme Industry Council", "id": council,
        "keys": [council.trim_start_matches("did:key:")]}]});
    std::fs::write(d.join("trust.json"), trust.to_string()).unwrap();
    let o = run(&["verify", "--trust", "trust.json", "c.json"], d);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines()
            .any(|l| l.contains("endorsement") && l.contains("trusted") && l.contains(COMMENT)),
        "{out}"
    );
    let o = run(&["verify", "--json", "--trust", "trust.json", "c.json"], d);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["endorsements"][0]["trust"], "trusted");
}

#[test]
fn an_altered_endorsement_is_invalid_but_the_credential_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(d, "college.json");
    keygen(d, "council.json");
    endorsed_credential(d, "eddsa-rdfc-2022", |e| {
        e["credentialSubject"]["endorsementComment"] = json!("The best course there is.");
    });
    let o = run(&["verify", "c.json"], d);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(": VALID"), "{out}");
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("endorsement"))
        .unwrap_or_else(|| panic!("no endorsement line:\n{out}"));
    assert!(line.contains("INVALID"), "{line}");
    assert!(line.contains("signature"), "{line}");
    let o = run(&["verify", "--json", "c.json"], d);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["verdict"], "valid");
    assert_eq!(report["endorsements"][0]["trust"], "invalid");
}

#[test]
fn endorse_refuses_an_endorser_profile_of_another_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(d, "council.json");
    std::fs::write(
        d.join("endorser.json"),
        json!({"id": "did:example:someone-else", "type": ["Profile"], "name": "X"}).to_string(),
    )
    .unwrap();
    let o = run(
        &[
            "endorse",
            "--key",
            "council.json",
            "--subject",
            "https://example.edu/achievements/1",
            "--endorser",
            "endorser.json",
        ],
        d,
    );
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the key belongs to"));
}
