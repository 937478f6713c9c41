//! Helpers shared by the CLI test binaries (`cli`, `bake`, `hostile`, `profiles`): run the built
//! `microcred` binary and describe its outcome.

// Each test binary uses a different part of these helpers.
#![allow(dead_code, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built `microcred` binary.
pub(crate) fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_microcred"))
}

/// The repository root.
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `microcred ARGS` in `dir`.
pub(crate) fn run(args: &[&str], dir: &Path) -> Output {
    bin()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run microcred")
}

/// The JSON file at `path`.
pub(crate) fn read_json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).expect("read the JSON file");
    serde_json::from_slice(&bytes).expect("a JSON file")
}

/// The example achievement `name` (e.g. `df-101.json`) in the repository's `examples`.
pub(crate) fn example_achievement(name: &str) -> PathBuf {
    repo().join("examples/achievements").join(name)
}

/// Runs `microcred issue --key KEY --achievement ACHIEVEMENT --issuer ISSUER EXTRA...` in
/// `dir`, where ISSUER is the example issuer profile.
pub(crate) fn run_issue(dir: &Path, key: &str, achievement: &Path, extra: &[&str]) -> Output {
    let profile = repo().join("examples/issuer-profile.json");
    let mut args = vec![
        "issue",
        "--key",
        key,
        "--achievement",
        achievement.to_str().expect("a UTF-8 path"),
        "--issuer",
        profile.to_str().expect("a UTF-8 path"),
    ];
    args.extend_from_slice(extra);
    run(&args, dir)
}

/// Exit status, stdout and stderr, for assertion messages.
pub(crate) fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The exit code (the process was not killed by a signal).
pub(crate) fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}
