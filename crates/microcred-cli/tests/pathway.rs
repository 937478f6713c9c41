//! The Digital Fluency pathway end to end through `microcred serve`, checked by an employer
//! with `microcred verify`: a credential of another college (made with `microcred issue`
//! under that college's key) is submitted as a presentation and recorded once the college is
//! recognized; the learner's own DF-101 and DF-102 are issued; the service issues the
//! certificate itself; the learner's CLR is exported; both verify offline with the CLI (the
//! record, and the certificate with its components) — and what should fail does: a missing
//! part, a tampered component, an unrecognized college's credential, another learner's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../microcred-service/tests/common/http.rs"]
mod http;
#[path = "common/serve.rs"]
mod serve;
#[path = "../../microcred-service/tests/common/setup.rs"]
mod setup;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use serve::{Serve, BIN};
use setup::{create_institution, examples, read_json, token, ALL_SCOPES};

const AMARA: &str = "did:example:amara";

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A credential of the college whose key is `key_file`, for its DC-200, to `recipient`.
fn college_credential(dir: &Path, key_file: &str, recipient: &str, out: &str) -> Value {
    let achievement = dir.join("dc-200.json");
    std::fs::write(
        &achievement,
        json!({
            "id": "https://lakeshore.example/achievements/dc-200",
            "type": ["Achievement"],
            "name": "Digital Collaboration 200",
            "description": "Collaborates online with shared documents and video meetings.",
            "criteria": {"narrative": "Passed the practical assessment."},
        })
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join("college.json"),
        json!({"type": ["Profile"], "name": "Lakeshore College"}).to_string(),
    )
    .unwrap();
    let (code, _, err) = run(
        dir,
        &[
            "issue",
            "--key",
            key_file,
            "--achievement",
            "dc-200.json",
            "--issuer",
            "college.json",
            "--recipient",
            recipient,
            "--valid-from",
            "2025-01-10T17:00:00Z",
            "--out",
            out,
        ],
    );
    assert_eq!(code, 0, "{err}");
    serde_json::from_slice(&std::fs::read(dir.join(out)).unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, v: &Value) {
    std::fs::write(dir.join(name), serde_json::to_vec(v).unwrap()).unwrap();
}

#[test]
fn the_digital_fluency_pathway_through_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = Serve::start(d, &["--init"], &[]);
    let admin = server.admin_token_from_stderr();
    let c = &server.client;
    let base = format!("http://{}", c.addr);

    // Northbridge publishes DF-101, DF-102 and the certificate, which also counts Lakeshore's
    // DC-200 (credit transfer).
    create_institution(c, "north", &admin, &json!({}));
    let tok = token(c, "north", &admin, ALL_SCOPES);
    for name in ["df-101", "df-102"] {
        let def = read_json(&examples().join(format!("achievements/{name}.json")));
        let r = c.send_json(
            "PUT",
            &format!("/v1/institutions/north/achievements/{name}"),
            Some(&tok),
            &def,
            &[],
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let mut cert = read_json(&examples().join("achievements/df-certificate.json"));
    cert["stackingRequirement"]["requiredAchievement"] = json!([
        format!("{base}/institutions/north/achievements/df-101"),
        format!("{base}/institutions/north/achievements/df-102"),
        "https://lakeshore.example/achievements/dc-200",
    ]);
    let r = c.send_json(
        "PUT",
        "/v1/institutions/north/achievements/df-certificate",
        Some(&tok),
        &cert,
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.text());

    // Lakeshore's credential, and an unknown college's.
    let (_, lakeshore_did, _) = run(d, &["keygen", "--out", "lakeshore.json"]);
    let lakeshore_did = lakeshore_did.trim().to_owned();
    run(d, &["keygen", "--out", "unknown.json"]);
    let dc200 = college_credential(d, "lakeshore.json", AMARA, "dc-200-amara.json");
    let unknown = college_credential(d, "unknown.json", AMARA, "dc-200-unknown.json");
    let someone = college_credential(
        d,
        "lakeshore.json",
        "did:example:someone",
        "dc-200-someone.json",
    );
    let r = c.send_json(
        "PUT",
        "/v1/institutions/north/settings",
        Some(&tok),
        &json!({"recognizedIssuers": [{"id": lakeshore_did, "name": "Lakeshore College"}]}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let vp = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [unknown, someone, dc200],
    });
    let r = c.post(
        "/v1/institutions/north/learners/recognitions",
        Some(&tok),
        &json!({"recipient": AMARA, "presentation": vp}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["recorded"], 1, "{v:#}");
    assert!(
        v["credentials"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("recognizes"),
        "{v:#}"
    );
    assert!(
        v["credentials"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("not the learner's"),
        "{v:#}"
    );

    // Amara's own parts; the service issues the certificate.
    let (mut parts, mut ids) = (Vec::new(), Vec::new());
    for name in ["df-101", "df-102"] {
        let r = c.post(
            "/v1/institutions/north/credentials",
            Some(&tok),
            &json!({"achievement": name, "recipient": AMARA, "results": {"status": "Completed"}}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let file = format!("{name}.json");
        std::fs::write(
            d.join(&file),
            serde_json::to_vec(&r.json()["credential"]).unwrap(),
        )
        .unwrap();
        ids.push(r.json()["id"].as_str().unwrap().to_owned());
        parts.push(file);
    }
    let started = Instant::now();
    let cert_id = loop {
        let r = c.get("/v1/institutions/north/credentials?limit=50", Some(&tok));
        let found = r.json()["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["achievement"] == "df-certificate")
            .map(|m| m["id"].as_str().unwrap().to_owned());
        if let Some(id) = found {
            break id;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no certificate was issued"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let cert_bytes = c.get(&format!("/credentials/{cert_id}"), None).body;
    std::fs::write(d.join("cert.json"), &cert_bytes).unwrap();
    write(
        d,
        "north-did.json",
        &c.get("/institutions/north/did.json", None).json(),
    );
    write(
        d,
        "trust.json",
        &json!({"institutions": [
            {"name": "Northbridge College", "id": c.get("/institutions/north/did.json", None).json()["id"]},
            {"name": "Lakeshore College", "id": lakeshore_did},
        ]}),
    );

    // The employer: the learner's record, then the certificate with its components.
    let r = c.post(
        "/v1/institutions/north/learners/clr",
        Some(&tok),
        &json!({"recipient": AMARA}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    std::fs::write(d.join("record.json"), &r.body).unwrap();
    let common = ["--did-doc", "north-did.json", "--trust", "trust.json"];
    let (code, out, err) = run(d, &[&["verify", "record.json"][..], &common].concat());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("record.json: RECORD VALID"), "{out}");
    assert!(out.contains("Digital Collaboration 200"), "{out}");
    let stack = |components: &[&str]| {
        let mut args = vec!["verify", "cert.json"];
        for f in components {
            args.push("--component");
            args.push(f);
        }
        args.extend_from_slice(&common);
        run(d, &args)
    };
    let (code, out, err) = stack(&[&parts[0], &parts[1], "dc-200-amara.json"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("cert.json: STACK VALID"), "{out}");

    // What should fail does.
    let (code, out, _) = stack(&[&parts[0], &parts[1]]);
    assert_eq!(code, 1, "{out}");
    let text = std::fs::read_to_string(d.join(&parts[1])).unwrap();
    std::fs::write(
        d.join("tampered.json"),
        text.replace("Completed", "Complete "),
    )
    .unwrap();
    let (code, out, _) = stack(&[&parts[0], "tampered.json", "dc-200-amara.json"]);
    assert_eq!(code, 1, "{out}");
    let (code, out, _) = stack(&[&parts[0], &parts[1], "dc-200-someone.json"]);
    assert_eq!(code, 1, "{out}");
    let (code, out, _) = stack(&[&parts[0], &parts[1], "dc-200-unknown.json"]);
    assert_eq!(code, 1, "{out}");

    // A component revoked after the certificate was issued: the employer who has the
    // institution's revocation list (saved from its URL) sees the stack fall.
    let r = c.post(
        &format!("/v1/institutions/north/credentials/{}/revoke", ids[1]),
        Some(&tok),
        &json!({"reason": "assessment withdrawn"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let part = read_json(&d.join(&parts[1]));
    // One entry (an object) or several (an array), as the institution's settings choose.
    let entries = match &part["credentialStatus"] {
        Value::Array(a) => a.clone(),
        one => vec![one.clone()],
    };
    let list_url = entries
        .iter()
        .find(|s| s["statusPurpose"] == "revocation")
        .and_then(|s| s["statusListCredential"].as_str())
        .unwrap()
        .to_owned();
    let list = c.get(list_url.strip_prefix(&base).unwrap(), None);
    assert_eq!(list.status, 200, "{}", list.text());
    std::fs::write(d.join("revocation-list.json"), &list.body).unwrap();
    let (code, out, err) = stack(&[&parts[0], &parts[1], "dc-200-amara.json"]);
    assert_eq!(
        code, 0,
        "without the list the status is unknown, not failed: {out}{err}"
    );
    let mut args = vec!["verify", "cert.json"];
    for f in [&parts[0], &parts[1], "dc-200-amara.json"] {
        args.extend_from_slice(&["--component", f]);
    }
    args.extend_from_slice(&common);
    args.extend_from_slice(&["--status-list", "revocation-list.json", "--json"]);
    let (code, out, err) = run(d, &args);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("revoked"), "{out}");
}
