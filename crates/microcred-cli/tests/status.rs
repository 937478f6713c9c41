//! Revocation and suspension end to end: `microcred serve` as a real process, curl-like HTTP
//! calls, and the built `microcred verify` / `microcred bundle` as an employer runs them.
//!
//! issue → verify (offline: status unknown; `--online`: not revoked) → bundle → revoke →
//! verify `--online` and with a saved list (revoked, exit 1) and with the earlier bundle (not
//! revoked as of its capture time) → suspend (exit 1) → reinstate (valid) → status server
//! down → unknown (exit 0, said in the verdict line; exit 1 with `--require-status`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../microcred-service/tests/common/http.rs"]
mod http;
#[path = "../../microcred-service/tests/common/setup.rs"]
mod setup;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use http::Client;
use serde_json::{json, Value};
use setup::{institution_with_achievement, read_json};

const BIN: &str = env!("CARGO_BIN_EXE_microcred");
const ADMIN: &str = "status-test-admin-token-0123456789";

/// A running `microcred serve` on a loopback port.
struct Serve {
    child: Child,
    client: Client,
}

impl Serve {
    fn start(dir: &Path) -> Self {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(["--init", "--listen", "127.0.0.1:0", "--database"])
            .arg(dir.join("service.db"))
            .arg("--master-key-file")
            .arg(dir.join("master.key"))
            .env("MICROCRED_ADMIN_TOKEN", ADMIN)
            .env_remove("MICROCRED_MASTER_KEY")
            .env("MICROCRED_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel::<SocketAddr>();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    if let Some(addr) = rest.split_whitespace().next().and_then(|a| a.parse().ok())
                    {
                        let _ = tx.send(addr);
                    }
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the service starts");
        Self {
            child,
            client: Client::new(addr),
        }
    }

    /// SIGTERM, and wait for the process to end.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    /// A test that fails before `stop` leaves no service running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `microcred ARGS...` in `dir`: exit code and stdout + stderr.
fn microcred(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn path_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_owned()
}

#[test]
fn issue_verify_revoke_suspend_reinstate_and_server_down() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = Serve::start(d);
    let c = server.client;

    // An institution with suspension enabled, a token, the DF-101 achievement.
    let tok = institution_with_achievement(&c, "north", ADMIN, &json!({"suspension": true}));
    let did_doc = c.get("/institutions/north/did.json", None);
    std::fs::write(d.join("did.json"), &did_doc.body).unwrap();

    // Issue two credentials; save them as the learners' wallets would.
    let mut ids = Vec::new();
    for (n, learner) in ["amara", "bo"].iter().enumerate() {
        let r = c.post(
            "/v1/institutions/north/credentials",
            Some(&tok),
            &json!({"achievement": "df-101", "recipient": format!("did:example:{learner}"), "results": {"status": "Completed"}}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let issued = r.json();
        let body = c.get(&path_of(issued["url"].as_str().unwrap()), None).body;
        std::fs::write(d.join(format!("cred{n}.json")), body).unwrap();
        ids.push(issued["id"].as_str().unwrap().to_owned());
    }
    let cred: Value = read_json(&d.join("cred0.json"));
    let rev_url = cred["credentialStatus"][0]["statusListCredential"]
        .as_str()
        .unwrap()
        .to_owned();
    let sus_url = cred["credentialStatus"][1]["statusListCredential"]
        .as_str()
        .unwrap()
        .to_owned();

    // Offline, no list: valid, but the status is unknown, and it says so.
    let (code, out) = microcred(d, &["verify", "--did-doc", "did.json", "cred0.json"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("VALID, BUT REVOCATION STATUS UNKNOWN"),
        "{out}"
    );
    assert!(out.contains("no copy of the status list"), "{out}");
    assert!(out.contains("--online"), "{out}");
    let (code, out) = microcred(
        d,
        &[
            "verify",
            "--did-doc",
            "did.json",
            "--require-status",
            "cred0.json",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("INVALID"), "{out}");

    // Online, but the service is plain http: refused unless allowed.
    let (code, out) = microcred(
        d,
        &["verify", "--did-doc", "did.json", "--online", "cred0.json"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("--allow-http"), "{out}");
    assert!(out.contains("STATUS UNKNOWN"), "{out}");

    // Online: not revoked, with the list's publication and capture times.
    let online = [
        "verify",
        "--did-doc",
        "did.json",
        "--online",
        "--allow-http",
    ];
    let (code, out) = microcred(d, &[&online[..], &["cred0.json"]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(": VALID \""), "{out}");
    assert!(
        out.contains("not revoked (according to status list"),
        "{out}"
    );
    assert!(out.contains("not suspended"), "{out}");
    assert!(out.contains("captured 20"), "{out}");

    // The employer keeps a bundle (DID document fetched over did:web, both lists).
    let (code, out) = microcred(
        d,
        &[
            "bundle",
            "--out",
            "before.json",
            "--online",
            "--allow-http",
            "cred0.json",
            "cred1.json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let bundle = read_json(&d.join("before.json"));
    assert_eq!(bundle["didDocuments"].as_array().unwrap().len(), 1);
    assert_eq!(bundle["statusLists"].as_array().unwrap().len(), 2);
    assert!(bundle["statusLists"][0]["capturedAt"].is_string());

    // Revoke cred0 (with a reason, audited).
    let r = c.post(
        &format!("/v1/institutions/north/credentials/{}/revoke", ids[0]),
        Some(&tok),
        &json!({"reason": "issued in error"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // Online: revoked, exit 1.
    let (code, out) = microcred(d, &[&online[..], &["cred0.json"]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("INVALID"), "{out}");
    assert!(out.contains("REVOKED"), "{out}");
    assert!(out.contains("has revoked or suspended"), "{out}");
    // With saved lists, offline: revoked.
    std::fs::write(d.join("rev.json"), c.get(&path_of(&rev_url), None).body).unwrap();
    std::fs::write(d.join("sus.json"), c.get(&path_of(&sus_url), None).body).unwrap();
    let (code, out) = microcred(
        d,
        &[
            "verify",
            "--did-doc",
            "did.json",
            "--status-list",
            "rev.json",
            "--status-list",
            "sus.json",
            "cred0.json",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REVOKED"), "{out}");
    assert!(out.contains("capture time unknown"), "{out}");
    // The bundle made before: not revoked as of its capture time (no DID doc needed).
    let (code, out) = microcred(d, &["verify", "--bundle", "before.json", "cred0.json"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("not revoked"), "{out}");
    // A fresh bundle: revoked, offline.
    let (code, out) = microcred(
        d,
        &[
            "bundle",
            "--out",
            "after.json",
            "--online",
            "--allow-http",
            "cred0.json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = microcred(
        d,
        &["verify", "--json", "--bundle", "after.json", "cred0.json"],
    );
    assert_eq!(code, 1, "{out}");
    let report: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(report["verdict"], "invalid");
    assert_eq!(report["status"], "fail");

    // Suspend cred1 → invalid; reinstate → valid again.
    let change = |action: &str, reason: &str| {
        let r = c.post(
            &format!("/v1/institutions/north/credentials/{}/{action}", ids[1]),
            Some(&tok),
            &json!({"reason": reason}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    };
    change("suspend", "under review");
    let (code, out) = microcred(d, &[&online[..], &["cred1.json"]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("SUSPENDED"), "{out}");
    change("reinstate", "review cleared");
    let (code, out) = microcred(d, &[&online[..], &["cred1.json"]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(": VALID \""), "{out}");

    // The audit trail has who, when and why.
    let events = c
        .get("/v1/institutions/north/status-events", Some(&tok))
        .json();
    let reasons: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["review cleared", "under review", "issued in error"]
    );

    // The status server is down: unknown, not invalid; said in the verdict and the reason.
    server.stop();
    let (code, out) = microcred(d, &[&online[..], &["cred1.json"]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("VALID, BUT REVOCATION STATUS UNKNOWN"),
        "{out}"
    );
    assert!(out.contains("could not be obtained"), "{out}");
    assert!(out.contains("cannot connect"), "{out}");
    let (code, out) = microcred(
        d,
        &[&online[..], &["--json", "--require-status", "cred1.json"]].concat(),
    );
    assert_eq!(code, 1, "{out}");
    let report: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(report["verdict"], "valid");
    assert_eq!(report["status"], "unknown");
    // ... while the bundle still answers offline.
    let (code, out) = microcred(d, &["verify", "--bundle", "before.json", "cred1.json"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(": VALID \""), "{out}");
    // An incomplete bundle is written, and the gaps reported (exit 1).
    let (code, out) = microcred(
        d,
        &[
            "bundle",
            "--out",
            "partial.json",
            "--online",
            "--allow-http",
            "cred1.json",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("missing"), "{out}");
}
