//! `microcred`: keys, offline signing, batch issuance and verification of Open Badges 3.0
//! microcredentials.
//!
//! Exit codes: 0 success / all valid; 1 invalid credential, lint errors or failed rows;
//! 2 usage, I/O, or a credential that could not be checked.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bake;
mod batch_out;
mod clr;
mod endorse;
mod files;
mod issue;
mod keygen;
mod lint;
mod serve;
mod sign;
mod stack;
mod status;
mod verify;

/// Issue and verify signed microcredentials (Open Badges 3.0 / W3C VC 2.0, Ed25519).
#[derive(Parser)]
#[command(name = "microcred", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate an Ed25519 issuer key (a Multikey key-pair file) and print its DID.
    Keygen(keygen::KeygenArgs),
    /// Print the DID document of a key file (publish it as did.json for did:web).
    DidDoc(keygen::DidDocArgs),
    /// Sign a credential (lint errors refuse signing); the signed credential goes to stdout.
    Sign(sign::SignArgs),
    /// Build and sign credentials from an achievement definition: one recipient, or a CSV batch.
    Issue(Box<issue::IssueArgs>),
    /// Sign an Open Badges 3.0 endorsement of an achievement, issuer profile or credential
    /// (embed it in the endorsed thing's `endorsement` array; `verify` checks it).
    Endorse(endorse::EndorseArgs),
    /// Verify credentials and explain every check (exit 0 valid, 1 invalid, 2 could not check).
    Verify(verify::VerifyArgs),
    /// Make a signed CLR 2.0 record of one learner's credentials (embedded unchanged, with
    /// isPartOf/precedes associations); `verify` checks it.
    Clr(Box<clr::ClrArgs>),
    /// Report what is missing or wrong in a credential or achievement before signing.
    Lint(lint::LintArgs),
    /// Run the issuer service (HTTP API, SQLite file by default); `--init` for a first local run.
    Serve(serve::ServeArgs),
    /// Bake a signed credential into its badge image (PNG or SVG, Open Badges 3.0 baking).
    Bake(bake::BakeArgs),
    /// Extract the credential baked into a PNG or SVG badge image, byte for byte.
    Unbake(bake::UnbakeArgs),
    /// Save what is needed to verify credentials offline later (issuer DID documents, status
    /// lists with their capture time) into one file for `verify --bundle`.
    Bundle(status::BundleArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(a) => keygen::run(a),
        Command::DidDoc(a) => keygen::run_did_doc(a),
        Command::Sign(a) => sign::run(a),
        Command::Issue(a) => issue::run(*a),
        Command::Endorse(a) => endorse::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Clr(a) => clr::run(*a),
        Command::Lint(a) => lint::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Bake(a) => bake::run_bake(a),
        Command::Unbake(a) => bake::run_unbake(a),
        Command::Bundle(a) => status::run_bundle(a),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("microcred: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
