//! Lint profiles through the built `microcred` binary: without a profile, every Open Badges
//! 3.0 specification example signs; a chosen profile (`--profile eu-2022`) refuses a
//! MicroCredential that lacks its mandatory elements, naming each one.

// Test helpers (outside #[test] functions) may unwrap: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{code, repo, run, run_issue, text};

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn spec_examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ob-spec-examples")
}

/// A temp dir with a fresh key (`key.json`).
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["keygen", "--out", "key.json"], dir.path());
    assert_eq!(code(&o), 0, "{}", text(&o));
    dir
}

fn write_json(dir: &Path, name: &str, v: &Value) {
    std::fs::write(dir.join(name), v.to_string()).unwrap();
}

/// The 1EdTech basic example (a "Teamwork" badge) made a MicroCredential: valid Open Badges
/// 3.0, but without the EU Annex I elements beyond those OB requires.
fn bare_microcredential() -> Value {
    let raw = std::fs::read(spec_examples().join("basicOpenBadgeCredential-0.json")).unwrap();
    let mut v: Value = serde_json::from_slice(&raw).unwrap();
    v["credentialSubject"]["achievement"]["achievementType"] = json!("MicroCredential");
    v
}

#[test]
fn sign_without_a_profile_signs_every_ob_spec_example() {
    let dir = setup();
    let sources = std::fs::read_to_string(spec_examples().join("SOURCES.md")).unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(spec_examples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 6, "{files:?}");
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        // The copies are the ones SOURCES.md describes, byte for byte.
        let digest: String = Sha256::digest(std::fs::read(&file).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(
            sources.contains(&format!("| `{name}` |")) && sources.contains(&digest),
            "{name}: SHA-256 {digest} not in SOURCES.md"
        );
        let path = file.to_str().unwrap();
        // Their issuers are the spec's example ids: signing with our key as that issuer is
        // refused (verifiers would reject it), an issue of key binding, not of lint.
        let o = run(&["sign", "--key", "key.json", path], dir.path());
        assert_eq!(code(&o), 2, "{name}: {}", text(&o));
        assert!(stderr(&o).contains("--set-issuer"), "{name}: {}", text(&o));
        // As the institution's own credential (issuer id = the key's DID): signed, and it
        // verifies.
        let o = run(
            &[
                "sign",
                "--key",
                "key.json",
                "--set-issuer",
                "--out",
                "signed.json",
                path,
            ],
            dir.path(),
        );
        assert_eq!(code(&o), 0, "{name}: {}", text(&o));
        assert!(!stderr(&o).contains("error["), "{name}: {}", text(&o));
        let o = run(&["verify", "signed.json"], dir.path());
        assert_eq!(code(&o), 0, "{name}: {}", text(&o));
    }
}

#[test]
fn microcredential_without_eu_elements_signs_without_profile_refused_under_eu_2022() {
    let dir = setup();
    write_json(dir.path(), "mc.json", &bare_microcredential());
    for profile in [None, Some("none")] {
        let mut args = vec!["sign", "--key", "key.json", "--set-issuer", "mc.json"];
        args.extend(profile.iter().flat_map(|p| ["--profile", *p]));
        let o = run(&args, dir.path());
        assert_eq!(code(&o), 0, "{}", text(&o));
        let signed: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(signed["proof"].is_object());
        let err = stderr(&o);
        assert!(
            err.contains("warning[eu.qualityAssurance]") && err.contains("(no lint profile)"),
            "{err}"
        );
        assert!(!err.contains("error["), "{err}");
    }
    let o = run(
        &[
            "sign",
            "--key",
            "key.json",
            "--set-issuer",
            "--profile",
            "eu-2022",
            "mc.json",
        ],
        dir.path(),
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(o.stdout.is_empty(), "nothing signed may reach stdout");
    let err = stderr(&o);
    // One error per missing element, with its path and what to add.
    for (rule, path, add) in [
        (
            "eu.country",
            "issuer.address.addressCountryCode",
            "addressCountryCode",
        ),
        (
            "eu.workload",
            "credentialSubject.achievement.volumeOfLearning",
            "volumeOfLearning",
        ),
        (
            "eu.assessmentType",
            "credentialSubject.achievement.resultDescription",
            "assessmentType",
        ),
        (
            "eu.formOfParticipation",
            "credentialSubject.achievement.learningMode",
            "learningMode",
        ),
        (
            "eu.qualityAssurance",
            "credentialSubject.achievement.qualityAssurance",
            "qualityAssurance",
        ),
    ] {
        let line = err
            .lines()
            .find(|l| l.contains(&format!("error[{rule}] {path}:")))
            .unwrap_or_else(|| panic!("no {rule} error: {err}"));
        assert!(
            line.contains("eu-2022") && line.contains("add ") && line.contains(add),
            "{line}"
        );
    }
    assert!(
        err.contains("5 error(s)") && err.contains("(lint profile eu-2022)"),
        "{err}"
    );
    // The same credential as a Degree: the EU profile only advises.
    let mut degree = bare_microcredential();
    degree["credentialSubject"]["achievement"]["achievementType"] = json!("Degree");
    write_json(dir.path(), "degree.json", &degree);
    let o = run(
        &[
            "sign",
            "--key",
            "key.json",
            "--set-issuer",
            "--profile",
            "eu-2022",
            "degree.json",
        ],
        dir.path(),
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(stderr(&o).contains("warning[eu.country]"), "{}", text(&o));
}

#[test]
fn lint_and_issue_follow_the_profile() {
    let dir = setup();
    let mut ach: Value = serde_json::from_slice(
        &std::fs::read(repo().join("examples/achievements/df-101.json")).unwrap(),
    )
    .unwrap();
    ach.as_object_mut().unwrap().remove("qualityAssurance");
    write_json(dir.path(), "ach.json", &ach);
    let o = run(&["lint", "--json", "ach.json"], dir.path());
    assert_eq!(code(&o), 0, "{}", text(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["lintProfile"], Value::Null);
    let o = run(
        &["lint", "--json", "--profile", "eu-2022", "ach.json"],
        dir.path(),
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["lintProfile"], "eu-2022");
    let errors: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["rule"], "eu.qualityAssurance");
    assert_eq!(errors[0]["path"], "achievement.qualityAssurance");

    let issue = |extra: &[&str]| run_issue(dir.path(), "key.json", Path::new("ach.json"), extra);
    // One recipient: signed with warnings, or refused under eu-2022.
    let o = issue(&["--recipient", "did:example:a", "--out", "a.json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        stderr(&o).contains("warning[eu.qualityAssurance]"),
        "{}",
        text(&o)
    );
    let o = issue(&["--recipient", "did:example:b", "--profile", "eu-2022"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).contains("error[eu.qualityAssurance]"),
        "{}",
        text(&o)
    );
    // HEQCO's "assessed" marker needs the learner's result.
    let o = issue(&["--recipient", "did:example:c", "--profile", "heqco"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(
        stderr(&o).contains("error[heqco.assessed] credentialSubject.result"),
        "{}",
        text(&o)
    );
    // A batch: refused whole under eu-2022; without a profile issued, warnings shown once.
    std::fs::write(
        dir.path().join("cohort.csv"),
        "recipient\ndid:example:1\ndid:example:2\n",
    )
    .unwrap();
    let batch = ["--recipients", "cohort.csv", "--out-dir", "out"];
    let o = issue(&[&batch[..], &["--profile", "eu-2022"]].concat());
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(stderr(&o).contains("refusing the batch"), "{}", text(&o));
    let o = issue(&batch);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(
        stderr(&o).matches("warning[eu.qualityAssurance]").count(),
        1,
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        2
    );
}

#[test]
fn profiles_are_listed_and_unknown_names_are_usage_errors() {
    let dir = setup();
    let o = run(&["lint", "--list-profiles"], dir.path());
    assert_eq!(code(&o), 0, "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for name in ["eu-2022", "heqco", "au-nmf", "nzqa", "none"] {
        assert_eq!(
            out.lines()
                .filter(|l| l.starts_with(&format!("{name} ")))
                .count(),
            1,
            "{out}"
        );
    }
    write_json(dir.path(), "mc.json", &bare_microcredential());
    for args in [
        &["lint", "--profile", "eu-2021", "mc.json"][..],
        &[
            "sign",
            "--key",
            "key.json",
            "--profile",
            "eu-2021",
            "mc.json",
        ],
        &[
            "issue",
            "--key",
            "key.json",
            "--achievement",
            "mc.json",
            "--recipient",
            "did:example:a",
            "--profile",
            "eu-2021",
        ],
    ] {
        let o = run(args, dir.path());
        assert_eq!(code(&o), 2, "{args:?}: {}", text(&o));
        let err = stderr(&o);
        assert!(
            err.contains("unknown lint profile \"eu-2021\"")
                && ["eu-2022", "heqco", "au-nmf", "nzqa"]
                    .iter()
                    .all(|n| err.contains(n)),
            "{err}"
        );
    }
}
