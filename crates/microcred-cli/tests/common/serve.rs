//! A real `microcred serve` process for the CLI's tests of the service (`service`,
//! `instances`): start it on a database, read what it says, kill it or stop it; and the
//! helpers those tests share.

// Each test binary uses a different part of these helpers.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::http::Client;

pub const BIN: &str = env!("CARGO_BIN_EXE_microcred");

/// A running `microcred serve`, its address, and everything it wrote to stderr so far.
pub struct Serve {
    child: Child,
    pub client: Client,
    pub stderr: Arc<Mutex<String>>,
}

impl Serve {
    /// `microcred serve` on the SQLite database `dir/service.db`, master key `dir/master.key`.
    pub fn start(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Self {
        Self::start_on(dir.join("service.db").as_os_str(), dir, args, envs)
    }

    /// `microcred serve --database DATABASE` (a file or a `postgres://` URL), master key
    /// `dir/master.key`.
    pub fn start_on(database: &OsStr, dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .args(["--listen", "127.0.0.1:0", "--database"])
            .arg(database)
            .arg("--master-key-file")
            .arg(dir.join("master.key"))
            .args(args)
            .env_remove("MICROCRED_ADMIN_TOKEN")
            .env_remove("MICROCRED_MASTER_KEY")
            .env("MICROCRED_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<SocketAddr>();
        let pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    if let Some(addr) = rest.split_whitespace().next().and_then(|a| a.parse().ok())
                    {
                        let _ = tx.send(addr);
                    }
                }
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the service did not start: {}", stderr.lock().unwrap()));
        Self {
            child,
            client: Client::new(addr),
            stderr,
        }
    }

    pub fn admin_token_from_stderr(&self) -> String {
        let text = self.stderr.lock().unwrap().clone();
        let mut lines = text
            .lines()
            .skip_while(|l| !l.contains("administrator token"));
        lines
            .next()
            .expect("the generated admin token is announced");
        lines
            .next()
            .expect("and printed on the next line")
            .trim()
            .to_owned()
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn stop(mut self) {
        // SIGTERM for a graceful shutdown.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "graceful shutdown exits 0: {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill().unwrap();
        panic!("the service did not stop on SIGTERM");
    }
}

impl Drop for Serve {
    /// A test that fails (or ends) without `stop` or `kill` leaves no service running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn path_of(url: &str) -> String {
    let i = url.find("/credentials/").unwrap();
    url[i..].to_owned()
}

/// `microcred verify --issuer-key DID_DOC FILES...`: exit code and output.
pub fn cli_verify(did_doc: &Path, files: &[PathBuf]) -> (i32, String) {
    let out = Command::new(BIN)
        .arg("verify")
        .arg("--issuer-key")
        .arg(did_doc)
        .args(files)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
