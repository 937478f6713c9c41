//! Baked badge images: `GET /credentials/{id}/badge.png` and `/badge.svg` serve the stored
//! credential baked (Open Badges 3.0 "Baked Badge") into its achievement's image, or into a
//! generated one. The credential's bytes are baked unchanged, so `microcred unbake` gives back
//! exactly what `GET /credentials/{id}` serves.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use microcred_badge::ImageFormat;
use serde_json::Value;

use super::public::valid_credential_id;
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /credentials/{id}/badge.png`.
pub(crate) async fn badge_png(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    badge(state, id, ImageFormat::Png).await
}

/// `GET /credentials/{id}/badge.svg`.
pub(crate) async fn badge_svg(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    badge(state, id, ImageFormat::Svg).await
}

async fn badge(state: AppState, id: String, format: ImageFormat) -> Result<Response, ApiError> {
    if !valid_credential_id(&id) {
        return Err(ApiError::NotFound("no such credential".into()));
    }
    let body = match state.inner().bodies.get(&id) {
        Some(b) => b,
        None => {
            state
                .blocking(move |inner| {
                    let body = inner
                        .store
                        .credential_body(&id)?
                        .map(axum::body::Bytes::from)
                        .ok_or_else(|| ApiError::NotFound("no such credential".into()))?;
                    inner.bodies.insert(&id, body.clone());
                    Ok(body)
                })
                .await?
        }
    };
    // Baking is CPU work on up to a few megabytes, for anyone who asks: the public share of
    // the bounded CPU pool (503 + Retry-After when it is full).
    let image = state
        .cpu_public(move |_| baked_badge(&body, format))
        .await?;
    let mut r = (StatusCode::OK, image).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The bytes of a credential never change; neither does its image.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    if format == ImageFormat::Svg {
        // An SVG from an achievement definition is served from our origin: no scripts, no
        // external loads, whatever it contains.
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
            ),
        );
    }
    Ok(r)
}

/// The credential baked into its achievement's image when that is embedded as a `data:` URL
/// of the requested format (remote images are never fetched), otherwise into a generated
/// image named after the achievement.
fn baked_badge(credential: &[u8], format: ImageFormat) -> Result<Vec<u8>, ApiError> {
    let value = microcred_core::parse_strict(credential)
        .map_err(|e| ApiError::Internal(format!("stored credential is not JSON: {e}")))?;
    let achievement = super::subject(&value).get("achievement");
    let name = achievement
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
        .or_else(|| value.get("name").and_then(Value::as_str))
        .unwrap_or("Open Badge");
    if let Some(image) = achievement
        .and_then(|a| a.get("image"))
        .and_then(|i| embedded_image(i, format))
    {
        match microcred_badge::bake(&image, credential) {
            Ok(baked) => return Ok(baked),
            Err(e) => tracing::warn!(
                error = %e,
                "the achievement's image cannot be baked; serving a generated one"
            ),
        }
    }
    microcred_badge::generated_badge(name, format)
        .and_then(|image| microcred_badge::bake(&image, credential))
        .map_err(|e| ApiError::Internal(format!("cannot bake the credential: {e}")))
}

/// The bytes of an OB 3.0 `Image` (`{"id": "data:…"}` or a bare string) given as a base64
/// `data:` URL of `format`.
fn embedded_image(image: &Value, format: ImageFormat) -> Option<Vec<u8>> {
    let url = match image {
        Value::String(s) => s.as_str(),
        other => other.get("id")?.as_str()?,
    };
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media = meta.strip_suffix(";base64")?;
    if !media.eq_ignore_ascii_case(format.media_type()) {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .ok()?;
    (ImageFormat::detect(&bytes) == Some(format)).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn credential(image: Option<Value>) -> Vec<u8> {
        let mut achievement = json!({"type": ["Achievement"], "name": "Data <Literacy> & More"});
        if let Some(i) = image {
            achievement["image"] = i;
        }
        serde_json::to_vec_pretty(&json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "credentialSubject": {"type": ["AchievementSubject"], "achievement": achievement},
            "proof": {"type": "DataIntegrityProof"}
        }))
        .unwrap()
    }

    #[test]
    fn generated_when_the_achievement_has_no_embedded_image() {
        for image in [
            None,
            Some(json!({"id": "https://example.org/badge.png", "type": "Image"})),
        ] {
            let c = credential(image);
            for format in [ImageFormat::Png, ImageFormat::Svg] {
                let baked = baked_badge(&c, format).unwrap();
                assert_eq!(ImageFormat::detect(&baked), Some(format));
                assert_eq!(microcred_badge::unbake(&baked).unwrap().text, c);
            }
            let svg = String::from_utf8(baked_badge(&c, ImageFormat::Svg).unwrap()).unwrap();
            assert!(svg.contains("Data &lt;Literacy&gt; &amp; More"));
        }
    }

    #[test]
    fn uses_an_embedded_image_of_the_right_format() {
        let own = br#"<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>"#;
        let url = format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(own)
        );
        let c = credential(Some(json!({"id": url, "type": "Image"})));
        let svg = String::from_utf8(baked_badge(&c, ImageFormat::Svg).unwrap()).unwrap();
        assert!(svg.contains("<rect width=\"9\" height=\"9\"/>"), "{svg}");
        assert_eq!(microcred_badge::unbake(svg.as_bytes()).unwrap().text, c);
        // PNG requested: the SVG cannot be used, a PNG is generated.
        let png = baked_badge(&c, ImageFormat::Png).unwrap();
        assert_eq!(microcred_badge::unbake(&png).unwrap().text, c);
        // A broken embedded image falls back to a generated one.
        let c = credential(Some(json!("data:image/svg+xml;base64,PHN2Zz48Zz4=")));
        let svg = baked_badge(&c, ImageFormat::Svg).unwrap();
        assert_eq!(microcred_badge::unbake(&svg).unwrap().text, c);
        assert!(embedded_image(&json!("data:image/png,xyz"), ImageFormat::Png).is_none());
    }
}
