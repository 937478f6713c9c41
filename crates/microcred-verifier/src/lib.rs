//! What an employer's verifier does with the files a candidate sends, shared by
//! `microcred verify` and the verifier page compiled to WebAssembly, so that both say the same
//! thing about the same file:
//!
//! - [`input`]: recognise what the bytes are (a credential's JSON, a baked PNG/SVG badge,
//!   an Open Badges 2.0 image that cannot be verified as a VC) and unbake.
//! - [`Evidence`]: what the employer knows besides the file: DID documents and keys, pinned
//!   issuer keys, a trust list, status lists and verification bundles, extra JSON-LD contexts.
//! - [`check_file`]: verifies one file (a credential, a CLR with everything in it, or a
//!   verifiable presentation and each credential in it) and returns a [`Checked`]: the exit
//!   code, the verdict in words, each check with its reason, the text report and the JSON
//!   report, exactly as `microcred verify` prints them.
//! - [`check_stack_files`]: a stacked credential with its component credentials: each
//!   verified, then the stacking rule, saying which component satisfies which requirement.
//!
//! No network, clock or disk: the caller reads files, fetches (the CLI's `--online`) and passes
//! the verification time.

mod evidence;
pub mod input;
mod report;
mod stack;

pub use evidence::{saved_status_list, status_list_urls, Evidence, EvidenceError, BUNDLE_TYPE};
pub use report::{
    check_file, exit_code, known_identity, report_text, Checked, Hints, Line, Settings,
};
pub use stack::check_stack_files;
