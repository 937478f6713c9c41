//! Credential status for `verify` and `bundle`: status lists from saved files
//! (`--status-list`, `--bundle`) or fetched (`--online`), and the verification bundle format.
//!
//! Offline by default: nothing is fetched unless `--online` is given, and then only the status
//! lists (and, for `bundle`, `did:web` DID documents) that the credentials name, over HTTPS
//! (plain HTTP only with `--allow-http`), with a [`TIMEOUT`] and a [`MAX_FETCH`] size limit.
//! A list that cannot be fetched makes the status *unknown* with the reason, never *valid*.
//!
//! A bundle (`microcred bundle`) is one JSON file with what an employer needs to verify later
//! without the network:
//!
//! ```json
//! {"type": "MicrocredVerificationBundle", "version": 1, "createdAt": "2025-06-01T12:00:00Z",
//!  "credentials": ["https://.../credentials/..."],
//!  "didDocuments": [{"id": "did:web:...", ...}],
//!  "statusLists": [{"url": "https://.../status/...", "capturedAt": "2025-06-01T12:00:00Z",
//!                   "credential": {"type": ["VerifiableCredential", "BitstringStatusListCredential"], ...}}]}
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use microcred_core::{KeyRing, StatusListCredential};
use microcred_verifier::{Evidence, BUNDLE_TYPE};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::files;

/// Time-out of one fetch (connect, TLS, request and body together).
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);
/// Largest answer accepted (a 131,072-entry list is a few KB compressed).
pub(crate) const MAX_FETCH: u64 = 1024 * 1024;

/// Status options of `microcred verify`.
#[derive(Args, Clone, Debug, Default)]
pub(crate) struct StatusArgs {
    /// A saved status list credential (as fetched from the credential's statusListCredential
    /// URL) to check revocation and suspension against. Repeatable. Offline.
    #[arg(long = "status-list", value_name = "FILE")]
    pub(crate) status_lists: Vec<PathBuf>,
    /// A verification bundle made by `microcred bundle` (issuer DID documents, status lists
    /// with their capture times). Repeatable. Offline.
    #[arg(long = "bundle", value_name = "FILE")]
    pub(crate) bundles: Vec<PathBuf>,
    /// Fetch the status lists the credentials name (HTTPS only, 5 s time-out, 1 MiB limit).
    /// Nothing else is fetched. A list that cannot be fetched leaves the status unknown.
    #[arg(long)]
    pub(crate) online: bool,
    /// With --online: also fetch plain http:// URLs (e.g. a test service on 127.0.0.1).
    #[arg(long, requires = "online")]
    pub(crate) allow_http: bool,
    /// Treat a credential whose status is unknown (no list, list unreachable or not genuine)
    /// as invalid (exit 1). Without it an unknown status is reported but does not fail.
    #[arg(long)]
    pub(crate) require_status: bool,
}

/// `--status-list` and `--bundle` files go into the evidence; with `--online`, the status
/// lists a file's credentials name are fetched before it is verified (each URL once).
pub(crate) struct Online {
    fetcher: Option<Fetcher>,
    fetched: HashSet<String>,
}

impl Online {
    /// Reads `--status-list` and `--bundle` files into `evidence` (a bundle's DID documents
    /// too), and readies `--online`.
    pub(crate) fn load(args: &StatusArgs, evidence: &mut Evidence) -> Result<Self> {
        for path in &args.status_lists {
            evidence.add_status_list(read_status_list(path)?);
        }
        for path in &args.bundles {
            let bundle = files::read_json(path)?;
            evidence
                .add_bundle(&bundle)
                .with_context(|| format!("cannot use the bundle {}", path.display()))?;
        }
        Ok(Self {
            fetcher: args.online.then(|| Fetcher::new(args.allow_http)),
            fetched: HashSet::new(),
        })
    }

    /// With `--online`, fetches the status lists that the credentials in `bytes` name (a
    /// credential's, or those of every credential in a CLR or presentation), once each.
    pub(crate) fn prefetch(&mut self, bytes: &[u8], evidence: &mut Evidence) {
        if let Some(fetcher) = &self.fetcher {
            for url in microcred_verifier::status_list_urls(bytes) {
                if self.fetched.insert(url.clone()) {
                    evidence.add_status_list(fetcher.status_list(&url));
                }
            }
        }
    }
}

/// A saved status list: the list credential itself (capture time unknown), or one entry of a
/// bundle's `statusLists` (`{"url", "capturedAt", "credential"}`).
fn read_status_list(path: &Path) -> Result<StatusListCredential> {
    let value = files::read_json(path)?;
    microcred_verifier::saved_status_list(value)
        .with_context(|| format!("cannot use {} as a status list", path.display()))
}

/// A small blocking HTTP(S) client for status lists and DID documents.
pub(crate) struct Fetcher {
    agent: ureq::Agent,
    allow_http: bool,
}

impl Fetcher {
    pub(crate) fn new(allow_http: bool) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .https_only(!allow_http)
            .http_status_as_error(false)
            .max_redirects(3)
            .user_agent(concat!("microcred/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self { agent, allow_http }
    }

    /// GETs `url`: the body, or why not in words.
    pub(crate) fn get(&self, url: &str, accept: &str) -> Result<Vec<u8>, String> {
        if url.starts_with("http://") {
            if !self.allow_http {
                return Err(
                    "it is a plain http:// URL, and only https is fetched (pass --allow-http to allow it, e.g. for a local test service)".into(),
                );
            }
        } else if !url.starts_with("https://") {
            return Err("only https:// URLs are fetched".into());
        }
        let mut response = self
            .agent
            .get(url)
            .header("Accept", accept)
            .call()
            .map_err(|e| fetch_error(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the server answered HTTP {}", status.as_u16()));
        }
        response
            .body_mut()
            .with_config()
            .limit(MAX_FETCH)
            .read_to_vec()
            .map_err(|e| fetch_error(&e))
    }

    /// Fetches one status list (now): the list, or an unavailable list with the reason.
    pub(crate) fn status_list(&self, url: &str) -> StatusListCredential {
        let at = OffsetDateTime::now_utc();
        match self.get(
            url,
            "application/vc+ld+json, application/vc, application/json;q=0.9",
        ) {
            Ok(bytes) => match StatusListCredential::from_bytes(&bytes) {
                Ok(list) => list.fetched_from(url).captured_at(at),
                Err(e) => StatusListCredential::unavailable(url, format!("the answer is {e}")),
            },
            Err(why) => StatusListCredential::unavailable(url, format!("fetching failed: {why}")),
        }
    }
}

fn fetch_error(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => format!(
            "no answer within {} s (the server is down or too slow)",
            TIMEOUT.as_secs()
        ),
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
            format!("cannot connect ({e}): the server is down or unreachable")
        }
        ureq::Error::Io(io) => format!("cannot connect or read ({io}): the server is down or unreachable"),
        ureq::Error::BodyExceedsLimit(_) => {
            format!("the answer is larger than {} KiB: refused", MAX_FETCH >> 10)
        }
        ureq::Error::RequireHttpsOnly(_) => {
            "it redirects to a plain http:// URL, and only https is fetched (--allow-http allows it)".into()
        }
        other => other.to_string(),
    }
}

/// `microcred bundle`.
#[derive(Args)]
pub(crate) struct BundleArgs {
    /// Where to write the bundle (JSON).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// A saved DID document of an issuer (e.g. a did:web issuer's did.json). Repeatable.
    #[arg(long = "did-doc", value_name = "FILE")]
    did_docs: Vec<PathBuf>,
    /// A saved status list credential (its capture time is recorded as unknown). Repeatable.
    #[arg(long = "status-list", value_name = "FILE")]
    status_lists: Vec<PathBuf>,
    /// Fetch what is missing: the status lists the credentials name and did:web DID
    /// documents (HTTPS only, 5 s time-out, 1 MiB limit), recording the capture time.
    #[arg(long)]
    online: bool,
    /// With --online: also fetch plain http:// URLs (and resolve did:web over http).
    #[arg(long, requires = "online")]
    allow_http: bool,
    /// The credentials (JSON) the bundle is for.
    #[arg(required = true, value_name = "CREDENTIAL")]
    credentials: Vec<PathBuf>,
}

/// Writes a bundle; exit 0 when it holds everything the credentials need, 1 when something
/// is missing (written all the same, with each gap reported).
pub(crate) fn run_bundle(args: BundleArgs) -> Result<ExitCode> {
    let fetcher = args.online.then(|| Fetcher::new(args.allow_http));
    let mut docs: Vec<Value> = Vec::new();
    for path in &args.did_docs {
        let doc = files::read_json(path)?;
        KeyRing::new()
            .add_controller_document(&doc)
            .with_context(|| format!("{} is not a usable DID document", path.display()))?;
        docs.push(doc);
    }
    let mut lists: Vec<Value> = Vec::new();
    for path in &args.status_lists {
        let list = read_status_list(path)?;
        lists.push(bundle_entry_value(&list)?);
    }
    let mut ids = Vec::new();
    let mut gaps = Vec::new();
    for path in &args.credentials {
        let cred = files::read_json(path)?;
        if let Some(id) = cred.get("id").and_then(Value::as_str) {
            ids.push(id.to_owned());
        }
        let issuer = match cred.get("issuer") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(o) => o.get("id").and_then(Value::as_str).map(str::to_owned),
            None => None,
        };
        if let Some(did) = issuer {
            let have = docs
                .iter()
                .any(|d| d.get("id").and_then(Value::as_str) == Some(did.as_str()));
            if !have && !did.starts_with("did:key:") {
                match (&fetcher, did_web_url(&did, args.allow_http)) {
                    (Some(f), Some(url)) => match fetch_did_doc(f, &url, &did) {
                        Ok(doc) => docs.push(doc),
                        Err(why) => gaps.push(format!("DID document of {did}: {why}")),
                    },
                    _ => gaps.push(format!(
                        "no DID document for the issuer {did}: pass --did-doc FILE{}",
                        if did.starts_with("did:web:") {
                            " or --online"
                        } else {
                            ""
                        }
                    )),
                }
            }
        }
        for url in microcred_core::status_list_urls(&cred) {
            let have = lists
                .iter()
                .any(|l| l.get("url").and_then(Value::as_str) == Some(url.as_str()));
            if have {
                continue;
            }
            match &fetcher {
                Some(f) => {
                    let list = f.status_list(&url);
                    match list.unavailable_reason() {
                        Some(why) => gaps.push(format!("status list {url}: {why}")),
                        None => lists.push(bundle_entry_value(&list)?),
                    }
                }
                None => gaps.push(format!(
                    "status list {url}: pass --status-list FILE or --online"
                )),
            }
        }
    }
    let bundle = json!({
        "type": BUNDLE_TYPE,
        "version": 1,
        "createdAt": microcred_core::format_datetime(OffsetDateTime::now_utc()),
        "credentials": ids,
        "didDocuments": docs,
        "statusLists": lists,
    });
    files::emit_json(&bundle, Some(&args.out))?;
    eprintln!(
        "wrote {}: {} DID document(s), {} status list(s)",
        args.out.display(),
        docs.len(),
        lists.len()
    );
    if gaps.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for g in &gaps {
            eprintln!("microcred: missing: {g}");
        }
        eprintln!(
            "the bundle is incomplete: verifying with it will report the missing parts as unknown"
        );
        Ok(ExitCode::from(1))
    }
}

fn bundle_entry_value(list: &StatusListCredential) -> Result<Value> {
    let credential = list
        .value()
        .cloned()
        .context("the status list is not available")?;
    let url = list
        .url()
        .context("the status list has no id: its URL is not known")?;
    Ok(json!({
        "url": url,
        "capturedAt": list.captured().map(microcred_core::format_datetime),
        "credential": credential,
    }))
}

/// Where a `did:web` DID document is published (did:web method spec §3.2): `https://host[:port]
/// [/path...]/did.json`, or `/.well-known/did.json` without a path.
pub(crate) fn did_web_url(did: &str, allow_http: bool) -> Option<String> {
    let rest = did.strip_prefix("did:web:")?;
    let mut parts = rest.split(':');
    let host = parts.next().filter(|h| !h.is_empty())?.replace("%3A", ":");
    let path: Vec<&str> = parts.collect();
    if path.iter().any(|p| p.is_empty() || p.contains('/')) || host.contains('/') {
        return None;
    }
    // did:web is HTTPS; --allow-http (for local test services) resolves over plain HTTP.
    let scheme = if allow_http { "http" } else { "https" };
    Some(if path.is_empty() {
        format!("{scheme}://{host}/.well-known/did.json")
    } else {
        format!("{scheme}://{host}/{}/did.json", path.join("/"))
    })
}

fn fetch_did_doc(f: &Fetcher, url: &str, did: &str) -> Result<Value, String> {
    let bytes = f.get(url, "application/did+json, application/json;q=0.9")?;
    let doc =
        microcred_core::parse_strict(&bytes).map_err(|e| format!("{url} is not JSON: {e}"))?;
    if doc.get("id").and_then(Value::as_str) != Some(did) {
        return Err(format!("{url} is the DID document of another DID"));
    }
    KeyRing::new()
        .add_controller_document(&doc)
        .map_err(|e| format!("{url} is not a usable DID document: {e}"))?;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_web_urls() {
        assert_eq!(
            did_web_url("did:web:college.example", false).as_deref(),
            Some("https://college.example/.well-known/did.json")
        );
        assert_eq!(
            did_web_url("did:web:127.0.0.1%3A8080:institutions:north", true).as_deref(),
            Some("http://127.0.0.1:8080/institutions/north/did.json")
        );
        assert_eq!(did_web_url("did:key:z6Mk", false), None);
        assert_eq!(did_web_url("did:web:", false), None);
    }

    #[test]
    fn plain_http_is_refused_unless_allowed() {
        let f = Fetcher::new(false);
        let e = f.get("http://127.0.0.1:9/x", "*/*").unwrap_err();
        assert!(e.contains("--allow-http"), "{e}");
        assert!(f.get("ftp://x.example/", "*/*").is_err());
        let l = f.status_list("http://127.0.0.1:9/status/x");
        assert!(l.unavailable_reason().unwrap().contains("only https"));
    }
}
