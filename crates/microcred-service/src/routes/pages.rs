//! HTML pages for people (content negotiation): `GET /credentials/{id}` and
//! `GET /institutions/{inst}/achievements` answer an HTML page when the request's `Accept`
//! prefers `text/html` (as browsers' does) and has no `format=json` query. Every other request
//! keeps the JSON answer unchanged: the credential's stored bytes are never altered.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use microcred_core::{achievement_matches, KeyRing, StackingRequirement, VerifyOptions};
use serde_json::Value;

use super::render::{
    self, AchievementRef, CatalogueEntry, ComponentRef, CredentialPage, PathwayRule, StackedFrom,
    StacksInto,
};
use crate::app::now;
use crate::error::ApiError;
use crate::issuer;
use crate::state::{AppState, Inner};
use crate::store::AchievementRecord;

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
    if query.is_some_and(|q| q.split('&').any(|p| p.eq_ignore_ascii_case("format=html"))) {
        return true;
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

pub(crate) fn html_response(body: String) -> Result<Response, ApiError> {
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
pub(crate) async fn credential_page(
    state: AppState,
    id: String,
    offer: Option<String>,
) -> Result<Response, ApiError> {
    let base = state.inner().site.base_url.clone();
    let verifier = state
        .inner()
        .site
        .verifier
        .is_some()
        .then(|| format!("{base}/verify/"));
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
            let achievement = value
                .pointer("/credentialSubject/achievement")
                .unwrap_or(&Value::Null);
            // A rule the service would not store (or an old credential's) shows no section.
            let own_rule = achievement
                .get("stackingRequirement")
                .and_then(|r| StackingRequirement::from_value(r).ok());
            let stacked = achievement.get("stackingRequirement").is_some();
            let own_url = achievement_url(
                &base,
                &rec.credential.institution,
                &rec.credential.achievement,
            );
            let own_id = achievement.get("id").and_then(Value::as_str);
            let pathways = inner.pathways.current(&*inner.store)?;
            let into: Vec<_> = pathways
                .iter()
                .filter(|p| {
                    p.rule.required_achievement.iter().any(|r| {
                        achievement_matches(r, &own_url)
                            || own_id.is_some_and(|id| achievement_matches(r, id))
                    })
                })
                .collect();
            let known = if own_rule.is_some() || !into.is_empty() {
                Known::of_service(inner, &base)?
            } else {
                Known::default()
            };
            let stacked_from = own_rule.map(|rule| StackedFrom {
                rule: known.rule(&rule),
                components: components(&value, &base),
            });
            // What the holder still lacks: only with the learner key (older credentials were
            // stored without one, and their holder's other credentials cannot be found).
            let held = match &rec.credential.learner {
                Some(learner) => Some(held_achievements(inner, &base, learner)?),
                None => None,
            };
            let stacks_into = into
                .iter()
                .map(|p| StacksInto {
                    pathway: known.resolve(&achievement_url(&base, &p.institution, &p.slug)),
                    rule: known.rule(&p.rule),
                    missing: held.as_ref().map(|held| {
                        p.rule
                            .required_achievement
                            .iter()
                            .filter(|r| !held.iter().any(|h| achievement_matches(r, h)))
                            .map(|r| known.resolve(r))
                            .collect()
                    }),
                })
                .collect();
            let checked_at = microcred_core::format_datetime(at);
            let wallet = match &offer {
                Some(o) => super::oid4vci::wallet_offer(inner, &base, o, &id, at)?,
                None => None,
            };
            Ok(render::credential_page(&CredentialPage {
                url: &url,
                credential: &value,
                report: &report,
                checked_at: &checked_at,
                badge_png: Some(&badge),
                pathway_record: stacked.then_some(clr.as_str()),
                stacked_from,
                stacks_into,
                verifier: verifier.as_deref(),
                wallet,
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
            // Pathways as the JSON catalogue lists them: its achievements' rules, each named
            // achievement by the catalogue's name when it has one.
            let known = Known::of_institution(&base, &rec.slug, &list);
            let rules: Vec<(AchievementRef, StackingRequirement)> = list
                .iter()
                .filter_map(|a| {
                    let rule = a.definition.get("stackingRequirement")?;
                    let rule = StackingRequirement::from_value(rule).ok()?;
                    let url = achievement_url(&base, &rec.slug, &a.slug);
                    Some((known.resolve(&url), rule))
                })
                .collect();
            let entries: Vec<CatalogueEntry<'_>> = list
                .iter()
                .map(|a| {
                    let url = achievement_url(&base, &rec.slug, &a.slug);
                    let id = a.definition.get("id").and_then(Value::as_str);
                    let pathway = a
                        .definition
                        .get("stackingRequirement")
                        .and_then(|r| StackingRequirement::from_value(r).ok())
                        .map(|r| known.rule(&r));
                    let stacks_into = rules
                        .iter()
                        .filter(|(_, rule)| {
                            rule.required_achievement.iter().any(|r| {
                                achievement_matches(r, &url)
                                    || id.is_some_and(|id| achievement_matches(r, id))
                            })
                        })
                        .map(|(p, _)| p.clone())
                        .collect();
                    CatalogueEntry {
                        url,
                        definition: &a.definition,
                        pathway,
                        stacks_into,
                    }
                })
                .collect();
            let page_url = format!("{base}/institutions/{}/achievements", rec.slug);
            Ok(render::catalogue_page(&rec.profile, &page_url, &entries))
        })
        .await?;
    html_response(html)
}

/// The public URL of an achievement of this service.
fn achievement_url(base: &str, inst: &str, slug: &str) -> String {
    format!("{base}/institutions/{inst}/achievements/{slug}")
}

/// Achievements of the service (all, or one institution's), to name what pathway rules name.
#[derive(Default)]
struct Known {
    /// (public URL, definition id, name) of each achievement's latest version.
    entries: Vec<(String, Option<String>, Option<String>)>,
}

impl Known {
    fn of_institution(base: &str, inst: &str, list: &[AchievementRecord]) -> Self {
        let mut known = Self::default();
        known.add(base, inst, list);
        known
    }

    fn of_service(inner: &Inner, base: &str) -> Result<Self, ApiError> {
        let mut known = Self::default();
        for inst in inner.store.institutions()? {
            known.add(base, &inst.slug, &inner.store.achievements(&inst.slug)?);
        }
        Ok(known)
    }

    fn add(&mut self, base: &str, inst: &str, list: &[AchievementRecord]) {
        for a in list {
            let text = |k: &str| {
                a.definition
                    .get(k)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            self.entries.push((
                achievement_url(base, inst, &a.slug),
                text("id"),
                text("name"),
            ));
        }
    }

    /// An achievement a rule names (its URL at this service, one of its versions, or its
    /// definition id), with its name and page when it is known; else just the id.
    fn resolve(&self, id: &str) -> AchievementRef {
        let found = self
            .entries
            .iter()
            .find(|(url, def_id, _)| achievement_matches(url, id) || def_id.as_deref() == Some(id));
        AchievementRef {
            id: id.to_owned(),
            name: found.and_then(|(_, _, name)| name.clone()),
            // A version the rule names is linked as named; a definition id goes to the page.
            url: Some(match found {
                Some((url, _, _)) if !id.starts_with(url.as_str()) => url.clone(),
                _ => id.to_owned(),
            }),
        }
    }

    fn rule(&self, rule: &StackingRequirement) -> PathwayRule {
        PathwayRule {
            required: rule
                .required_achievement
                .iter()
                .map(|r| self.resolve(r))
                .collect(),
            minimum_required: rule.minimum_required,
            minimum_credits: rule.minimum_credits,
            completion_window: rule.completion_window.clone(),
        }
    }
}

/// The components a stacked credential counts: its `evidence` that is a verifiable
/// credential, linked to its page when it is one of this service's (`urn:uuid:` ids or
/// `{base}/credentials/…` URLs).
fn components(credential: &Value, base: &str) -> Vec<ComponentRef> {
    let list = match credential.get("evidence") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let own = format!("{base}/credentials/");
    list.into_iter()
        .filter_map(|e| {
            let id = e.get("id").and_then(Value::as_str)?;
            let page = match id.strip_prefix("urn:uuid:") {
                Some(uuid) if super::public::valid_credential_id(uuid) => {
                    Some(format!("{own}{uuid}"))
                }
                _ => id
                    .strip_prefix(own.as_str())
                    .filter(|uuid| super::public::valid_credential_id(uuid))
                    .map(|_| id.to_owned()),
            };
            let is_credential =
                e.get("genre").and_then(Value::as_str) == Some("Verifiable credential");
            (page.is_some() || is_credential).then(|| ComponentRef {
                label: e
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or(id)
                    .to_owned(),
                id: id.to_owned(),
                page,
            })
        })
        .collect()
}

/// The achievements (URLs at this service, with and without version, and the credentials'
/// own achievement ids) of which `learner` holds a credential that is not revoked.
fn held_achievements(inner: &Inner, base: &str, learner: &str) -> Result<Vec<String>, ApiError> {
    let mut held = Vec::new();
    for c in inner.store.learner_credentials(learner)? {
        if c.revoked_at.is_some() {
            continue;
        }
        let n = &c.credential;
        let url = achievement_url(base, &n.institution, &n.achievement);
        held.push(format!("{url}/versions/{}", n.achievement_version));
        held.push(url);
        // The stored body is the service's own output; one that does not parse only loses
        // this extra id.
        if let Ok(v) = microcred_core::parse_strict(&n.body) {
            if let Some(id) = v
                .pointer("/credentialSubject/achievement/id")
                .and_then(Value::as_str)
            {
                held.push(id.to_owned());
            }
        }
    }
    Ok(held)
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
