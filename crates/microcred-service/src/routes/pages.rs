//! HTML pages for people (content negotiation): `GET /credentials/{id}` and
//! `GET /institutions/{inst}/achievements` answer an HTML page when the request's `Accept`
//! prefers `text/html` (as browsers' does) and has no `format=json` query. Every other request
//! keeps the JSON answer unchanged: the credential's stored bytes are never altered.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use microcred_core::{KeyRing, VerifyOptions};

use super::render::{self, CatalogueEntry, CredentialPage};
use crate::app::now;
use crate::error::ApiError;
use crate::issuer;
use crate::state::AppState;

/// Media ranges that mean "the JSON document" to this service.
const JSON_TYPES: &[&str] = &[
    "application/json",
    "application/vc+ld+json",
    "application/vc",
    "application/ld+json",
];

/// Whether the client prefers an HTML page: `text/html` (or XHTML) is listed with a quality
/// higher than any JSON type it lists, and the query does not ask for `format=json`.
/// Wildcards alone (`*/*`, no `Accept`) keep JSON.
pub(crate) fn wants_html(headers: &HeaderMap, query: Option<&str>) -> bool {
    if query.is_some_and(|q| q.split('&').any(|p| p.eq_ignore_ascii_case("format=json"))) {
        return false;
    }
    let mut html_q = 0.0_f32;
    let mut json_q = 0.0_f32;
    for value in headers.get_all(header::ACCEPT) {
        let Ok(text) = value.to_str() else { continue };
        for range in text.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    (k.trim().eq_ignore_ascii_case("q")).then(|| v.trim().parse::<f32>().ok())?
                })
                .next()
                .filter(|q| (0.0..=1.0).contains(q))
                .unwrap_or(1.0);
            if media == "text/html" || media == "application/xhtml+xml" {
                html_q = html_q.max(q);
            } else if JSON_TYPES.contains(&media.as_str()) || media == "application/*" {
                json_q = json_q.max(q);
            }
        }
    }
    html_q > 0.0 && html_q > json_q
}

fn html_response(body: String) -> Result<Response, ApiError> {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // No scripts, no external loads: styles are inline, the only image is our own badge.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    // The verification status is live: never cache the page for long.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(r)
}

/// `GET /ns/microcred/v1`: the microcredential extension vocabulary, as an HTML page for
/// people (anchors per term: the term IRIs' definitions) or, for JSON clients, the inline
/// context as a JSON-LD context document.
pub(crate) async fn vocabulary(
    axum::extract::State(state): axum::extract::State<AppState>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mut r = if wants_html(&headers, query.as_deref()) {
        let url = format!("{}/ns/microcred/v1", state.inner().site.base_url);
        html_response(render::vocabulary_page(&url))?
    } else {
        let doc = serde_json::json!({"@context": microcred_core::microcred_context()});
        let body =
            serde_json::to_vec_pretty(&doc).map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut r = super::raw_json(StatusCode::OK, body, "application/ld+json");
        let h = r.headers_mut();
        h.insert(header::VARY, HeaderValue::from_static("accept"));
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        r
    };
    // The same for every request until the service is upgraded.
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Ok(r)
}

/// `GET /credentials/{id}` as a page: the credential with a verification made now with the
/// institution's current and retired keys and the service's own status lists. Anyone can ask
/// for it, and verifying is CPU work: the public share of the CPU pool (look-ups included, so
/// an admitted request is never refused half-way).
pub(crate) async fn credential_page(state: AppState, id: String) -> Result<Response, ApiError> {
    let base = state.inner().site.base_url.clone();
    let html = state
        .cpu_public(move |inner| {
            let rec = inner
                .store
                .credential(&id)?
                .ok_or_else(|| ApiError::NotFound("no such credential".into()))?;
            let inst = inner.institution(&rec.credential.institution)?;
            let keys = inner.store.keys(&inst.slug)?;
            let mut ring = KeyRing::new();
            // An institution whose keys are all compromised lists none: the report says so.
            let _ = ring.add_controller_document(&issuer::did_document(&inst, &keys));
            let value = microcred_core::parse_strict(&rec.credential.body).map_err(|e| {
                ApiError::Internal(format!("stored credential {id} is not JSON: {e}"))
            })?;
            let lists = super::vcapi::hosted_lists(inner, &[&value])?;
            let at = now();
            let report = microcred_core::verify_value(
                &value,
                &VerifyOptions::new(at, &ring).status_lists(&lists),
            );
            let url = format!("{base}/credentials/{id}");
            let badge = format!("{url}/badge.png");
            let clr = format!("{url}/clr");
            let stacked = value["credentialSubject"]["achievement"]
                .get("stackingRequirement")
                .is_some();
            let checked_at = microcred_core::format_datetime(at);
            Ok(render::credential_page(&CredentialPage {
                url: &url,
                credential: &value,
                report: &report,
                checked_at: &checked_at,
                badge_png: Some(&badge),
                pathway_record: stacked.then_some(clr.as_str()),
            }))
        })
        .await?;
    html_response(html)
}

/// `GET /institutions/{inst}/achievements` as a page: the public catalogue.
pub(crate) async fn catalogue_page(state: AppState, inst: String) -> Result<Response, ApiError> {
    let base = state.inner().site.base_url.clone();
    let html = state
        .blocking(move |inner| {
            let rec = inner.institution(&inst)?;
            let list = inner.store.achievements(&inst)?;
            let entries: Vec<CatalogueEntry<'_>> = list
                .iter()
                .map(|a| CatalogueEntry {
                    url: format!("{base}/institutions/{}/achievements/{}", rec.slug, a.slug),
                    definition: &a.definition,
                })
                .collect();
            let page_url = format!("{base}/institutions/{}/achievements", rec.slug);
            Ok(render::catalogue_page(&rec.profile, &page_url, &entries))
        })
        .await?;
    html_response(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn browsers_get_html_and_programs_get_json() {
        let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
        assert!(wants_html(&accept(chrome), None));
        assert!(wants_html(&accept("text/html"), None));
        assert!(!wants_html(&accept(chrome), Some("format=json")));
        assert!(!wants_html(&HeaderMap::new(), None));
        assert!(!wants_html(&accept("*/*"), None));
        assert!(!wants_html(&accept("application/json"), None));
        assert!(!wants_html(&accept("application/vc+ld+json"), None));
        assert!(!wants_html(&accept("text/html, application/json"), None));
        assert!(!wants_html(
            &accept("text/html;q=0.5, application/json"),
            None
        ));
        assert!(wants_html(
            &accept("text/html, application/json;q=0.9"),
            None
        ));
        assert!(!wants_html(&accept("text/html;q=0"), None));
        assert!(!wants_html(&accept("text/*"), None));
    }
}
