//! `microcred verify` on credentials built to make RDF canonicalization slow or large: it must
//! answer "could not check" (exit 2) with a reason saying the input is too complex, quickly.

// Test helpers (outside #[test] functions) may unwrap: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{code, example_achievement, read_json, run, run_issue, text};

use serde_json::{json, Value};

/// Issues a credential (eddsa-rdfc-2022) into a temp dir and returns the dir and the credential.
fn issued() -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["keygen", "--out", "key.json"], dir.path());
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = run_issue(
        dir.path(),
        "key.json",
        &example_achievement("df-101.json"),
        &[
            "--recipient",
            "did:example:learner1",
            "--result",
            "final-assessment=86",
            "--out",
            "cred.json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let cred = read_json(&dir.path().join("cred.json"));
    assert_eq!(cred["proof"]["cryptosuite"], "eddsa-rdfc-2022");
    (dir, cred)
}

#[test]
fn look_alike_blank_node_floods_exit_2_as_too_complex() {
    let (dir, cred) = issued();
    let o = run(&["verify", "cred.json"], dir.path());
    assert_eq!(code(&o), 0, "{}", text(&o));
    for n in [10_000, 55_000] {
        // The security review's shape: n blank nodes under the subject sharing three values.
        let mut v = cred.clone();
        let nodes: Vec<Value> = (0..n)
            .map(|i| {
                let value = ["a", "b", "c"][i % 3];
                json!({ "http://e/v": value })
            })
            .collect();
        v["credentialSubject"]["http://e/x"] = Value::Array(nodes);
        let name = format!("flood-{n}.json");
        std::fs::write(dir.path().join(&name), serde_json::to_vec(&v).unwrap()).unwrap();

        let o = run(&["verify", &name], dir.path());
        assert_eq!(code(&o), 2, "{n}: {}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("too complex"), "{n}: {}", text(&o));
        assert!(
            out.contains("indistinguishable blank nodes"),
            "{n}: {}",
            text(&o)
        );

        let o = run(&["verify", "--json", &name], dir.path());
        assert_eq!(code(&o), 2, "{n}: {}", text(&o));
        let report: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(report["verdict"], "indeterminate", "{report}");
        let proof = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "proof")
            .unwrap();
        assert_eq!(proof["outcome"], "unknown", "{report}");
        assert!(
            proof["reason"].as_str().unwrap().contains("too complex"),
            "{report}"
        );
    }
}
