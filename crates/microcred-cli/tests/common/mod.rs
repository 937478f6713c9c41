//! Helpers shared by the CLI test binaries (`cli`, `bake`, `profiles`): run the built
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
