//! The employer's verifier page at `/verify/`: the folder `scripts/build-verifier.sh` builds
//! (the page, its script and style, and the WebAssembly module as a script), read once at
//! start. Served under a Content-Security-Policy that forbids the page any connection: what an
//! employer drops into it is checked in their browser and goes nowhere.

use std::path::Path;
use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::{ApiError, Error};
use crate::state::Site;

/// The policy of every response under `/verify/`: scripts and styles of its own (and
/// WebAssembly compiled from its own script), images it makes from dropped files, and no
/// connection, form, base or framing.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob: data:; connect-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The page's files, as built: name and media type.
const FILES: [(&str, &str); 4] = [
    ("index.html", "text/html; charset=utf-8"),
    ("verifier.js", "text/javascript; charset=utf-8"),
    ("verifier.css", "text/css; charset=utf-8"),
    ("verifier-wasm.js", "text/javascript; charset=utf-8"),
];

/// The page's files, in memory.
pub(crate) struct VerifierPage {
    files: Vec<(&'static str, &'static str, Arc<[u8]>)>,
}

impl std::fmt::Debug for VerifierPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifierPage").finish_non_exhaustive()
    }
}

impl VerifierPage {
    /// Reads the built folder; every file must be there.
    pub(crate) fn load(dir: &Path) -> Result<Self, Error> {
        let mut files = Vec::with_capacity(FILES.len());
        for (name, media_type) in FILES {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|e| {
                Error::Config(format!(
                    "the verifier page in {} is incomplete ({name}: {e}): build it with `bash scripts/build-verifier.sh {}`",
                    dir.display(),
                    dir.display()
                ))
            })?;
            files.push((name, media_type, Arc::from(bytes)));
        }
        Ok(Self { files })
    }

    fn get(&self, name: &str) -> Option<Response> {
        let (_, media_type, bytes) = self.files.iter().find(|(n, _, _)| *n == name)?;
        let mut r = (StatusCode::OK, bytes.to_vec()).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        Some(r)
    }
}

fn not_installed() -> ApiError {
    ApiError::NotFound(
        "the verifier page is not installed on this server: build it with `bash scripts/build-verifier.sh DIR` and start the service with --verifier-dir DIR".into(),
    )
}

/// `GET /verify`: the page lives at `/verify/` (its files are relative to it).
pub(crate) async fn redirect() -> Redirect {
    Redirect::permanent("/verify/")
}

/// `GET /verify/`: the page.
pub(crate) async fn page(State(site): State<Site>) -> Result<Response, ApiError> {
    site.verifier
        .as_ref()
        .and_then(|p| p.get("index.html"))
        .ok_or_else(not_installed)
}

/// `GET /verify/{file}`: the page's script, style and module.
pub(crate) async fn asset(
    State(site): State<Site>,
    UrlPath(file): UrlPath<String>,
) -> Result<Response, ApiError> {
    let page = site.verifier.as_ref().ok_or_else(not_installed)?;
    page.get(&file)
        .ok_or_else(|| ApiError::NotFound("no such file of the verifier page".into()))
}
