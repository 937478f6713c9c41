//! Baked badge images: an Open Badges credential carried inside its own PNG or SVG image.
//!
//! Pure functions, bytes in and bytes out. What the specifications say, and what we do:
//!
//! - **Open Badges 3.0, "Baked Badge"** (<https://www.imsglobal.org/spec/ob/v3p0/#png-baking>,
//!   `#png-extracting`, `#svg-baking`; source `ob_v3p0/docformat.md` in
//!   `1EdTech/openbadges-specification`):
//!   - PNG: "An `iTXt` chunk should be inserted into the PNG with keyword
//!     `openbadgecredential`"; its text is the credential's JSON (embedded proof) or the
//!     compact JWS (VC-JWT); "Compression MUST NOT be used" (flag 0, method 0, empty language
//!     tag and translated keyword); the chunk "MUST NOT appear in a PNG more than once".
//!   - SVG: "add an `xmlns:openbadges` attribute to the `<svg>` tag with the value
//!     `https://purl.imsglobal.org/ob/v3p0`. Directly after the `<svg>` tag, add an
//!     `<openbadges:credential>` tag": the JSON goes in its body "wrapped in `<![CDATA[...]]>`";
//!     for VC-JWT a `verify` attribute holds the compact JWS instead. "There MUST be only one".
//! - **Open Badges 2.0 Baking Specification** (<https://www.imsglobal.org/spec/ob/v2p0/baking/>),
//!   read only: PNG `iTXt` keyword `openbadges` (assertion JSON or signed assertion), the
//!   pre-1.0 `tEXt` keyword `openbadges` (URL of a hosted assertion); SVG
//!   `<openbadges:assertion verify="…">` with `xmlns:openbadges="http://openbadges.org"`, the
//!   assertion JSON in a CDATA body when present, otherwise the `verify` attribute.
//!
//! Baking **replaces** an existing OB 3.0 credential (never leaves two) and puts the new one
//! right after `IHDR` (PNG) or directly after the `<svg>` start tag. [`unbake`] returns exactly
//! the bytes that were baked: `unbake(&bake(image, c)?)?.text == c`, which [`bake`] checks on
//! its own output before returning it.
//!
//! Hostile images are expected: every PNG chunk's length and CRC-32 is checked, sizes are
//! capped ([`MAX_IMAGE_BYTES`], [`MAX_CHUNK_BYTES`]), several credentials are refused, and the
//! SVG scanner never expands entities or reads DTDs: a `DOCTYPE` with an internal subset
//! (where entities are declared) is refused, and only the five predefined entities and
//! character references are decoded. Malformed input is a [`BakeError`], never a panic.
//!
//! This crate knows nothing about signatures: `microcred-core` verifies what [`unbake`]
//! returns. PNG CRC-32 comes from `crc32fast` and the generated PNG's zlib stream from
//! `flate2` (pure Rust, miniz_oxide).
//!
//! ```
//! use microcred_badge::{bake, generated_badge, unbake, BakedSpec, ImageFormat};
//! let image = generated_badge("Digital Fluency 1", ImageFormat::Png)?;
//! let credential = br#"{"type":["VerifiableCredential","OpenBadgeCredential"]}"#;
//! let baked = bake(&image, credential)?;
//! let found = unbake(&baked)?;
//! assert_eq!((found.spec, found.text.as_slice()), (BakedSpec::OpenBadges3, &credential[..]));
//! # Ok::<(), microcred_badge::BakeError>(())
//! ```
#![deny(missing_docs)]

mod json;

use std::fmt;
use std::io::Write as _;

/// Largest image accepted, to bake or to unbake.
pub const MAX_IMAGE_BYTES: usize = 32 * 1024 * 1024;
/// Largest PNG chunk accepted, and the largest credential that can be baked.
pub const MAX_CHUNK_BYTES: usize = 16 * 1024 * 1024;
/// PNG `iTXt` keyword for an OB 3.0 credential.
pub const OB3_PNG_KEYWORD: &str = "openbadgecredential";
/// PNG `iTXt` (or legacy `tEXt`) keyword for an OB 2.0 assertion.
pub const OB2_PNG_KEYWORD: &str = "openbadges";
/// XML namespace of the OB 3.0 `<openbadges:credential>` SVG element.
pub const OB3_SVG_NAMESPACE: &str = "https://purl.imsglobal.org/ob/v3p0";
/// XML namespace of the OB 2.0 `<openbadges:assertion>` SVG element.
pub const OB2_SVG_NAMESPACE: &str = "http://openbadges.org";

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// Deepest SVG element nesting accepted.
const MAX_SVG_DEPTH: usize = 1024;
/// Open Badges elements counted in one SVG before giving up (one is allowed).
const MAX_SVG_FOUND: usize = 64;

/// An image format that can carry a baked credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageFormat {
    /// PNG (`iTXt` chunk).
    Png,
    /// SVG (`<openbadges:credential>` element).
    Svg,
}

impl ImageFormat {
    /// The format of `bytes` judged from their first bytes: the PNG signature (or its start,
    /// so that a truncated PNG is reported as one), or markup (`<` after an optional byte
    /// order mark and white space) for SVG. `None` for anything else, e.g. JSON.
    pub fn detect(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG") {
            return Some(Self::Png);
        }
        if bytes.starts_with(b"\xFE\xFF") || bytes.starts_with(b"\xFF\xFE") {
            return Some(Self::Svg); // UTF-16 markup: reported as an unusable SVG.
        }
        let text = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
        let first = text.iter().copied().find(|b| !is_xml_space(*b));
        (first == Some(b'<')).then_some(Self::Svg)
    }

    /// The media type: `image/png` or `image/svg+xml`.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Svg => "image/svg+xml",
        }
    }

    /// The usual file extension, without a dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Svg => "svg",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Png => "PNG",
            Self::Svg => "SVG",
        })
    }
}

/// Which baking specification the extracted data follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BakedSpec {
    /// Open Badges 3.0: an `OpenBadgeCredential` (a verifiable credential).
    OpenBadges3,
    /// Open Badges 2.0: an assertion (hosted or signed), not a verifiable credential.
    OpenBadges2,
}

/// What the baked text looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadKind {
    /// A JSON object (a credential with an embedded proof, or an OB 2.0 assertion).
    Json,
    /// A compact JWS (VC-JWT, or an OB 2.0 signed assertion).
    CompactJws,
    /// An `http(s)` URL (an OB 2.0 hosted assertion).
    Url,
    /// Anything else.
    Other,
}

impl PayloadKind {
    /// Classifies baked text.
    pub fn of(text: &[u8]) -> Self {
        let t = text.trim_ascii();
        if t.first() == Some(&b'{') {
            Self::Json
        } else if is_compact_jws(t) {
            Self::CompactJws
        } else if (t.starts_with(b"https://") || t.starts_with(b"http://"))
            && !t
                .iter()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            Self::Url
        } else {
            Self::Other
        }
    }
}

impl fmt::Display for PayloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Json => "JSON",
            Self::CompactJws => "compact JWS",
            Self::Url => "URL",
            Self::Other => "unrecognized text",
        })
    }
}

/// What [`unbake`] found in an image.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unbaked {
    /// The image format it came from.
    pub format: ImageFormat,
    /// Open Badges 3.0 credential, or Open Badges 2.0 assertion.
    pub spec: BakedSpec,
    /// Where in the image, e.g. "iTXt chunk `openbadgecredential`".
    pub found_in: &'static str,
    /// The baked text, exactly as stored (for SVG: the element's character data with white
    /// space outside CDATA sections trimmed, or the `verify` attribute).
    pub text: Vec<u8>,
}

impl Unbaked {
    /// What the baked text looks like.
    pub fn kind(&self) -> PayloadKind {
        PayloadKind::of(&self.text)
    }
}

/// Why an image could not be baked or unbaked. Each message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BakeError {
    /// Neither a PNG nor an SVG.
    #[error("not a PNG or SVG image: baked badges are PNG or SVG files")]
    UnknownFormat,
    /// Over a size limit.
    #[error("the {what} is {size} bytes, over the {limit_mib} MiB limit for baked badges")]
    TooLarge {
        /// "image" or "credential".
        what: &'static str,
        /// Its size in bytes.
        size: usize,
        /// The limit in MiB.
        limit_mib: usize,
    },
    /// A damaged or invalid PNG.
    #[error("damaged PNG (at byte {offset}): {problem}; use an intact copy of the image")]
    Png {
        /// Byte offset of the problem.
        offset: usize,
        /// What is wrong.
        problem: String,
    },
    /// An SVG that cannot be read safely.
    #[error("unusable SVG (at byte {offset}): {problem}")]
    Svg {
        /// Byte offset of the problem.
        offset: usize,
        /// What is wrong, and what to do.
        problem: String,
    },
    /// More than one baked credential (or assertion) in one image.
    #[error(
        "the {format} image carries {count} baked {what}; Open Badges allows exactly one, so it \
         is ambiguous which one is meant: do not rely on it, ask the issuer for the credential"
    )]
    Several {
        /// The image format.
        format: ImageFormat,
        /// How many were found.
        count: usize,
        /// What was found several times.
        what: &'static str,
    },
    /// No baked credential or assertion.
    #[error(
        "no Open Badges credential is baked into this {format} image (no {looked_for}); \
         ask the issuer for the baked badge or the credential's JSON"
    )]
    NotBaked {
        /// The image format.
        format: ImageFormat,
        /// What was looked for.
        looked_for: &'static str,
    },
    /// Baking over an OB 2.0 baked image.
    #[error(
        "this {format} image already carries an Open Badges 2.0 assertion; bake into the \
         original, unbaked badge image instead"
    )]
    HasOpenBadges2 {
        /// The image format.
        format: ImageFormat,
    },
    /// The credential bytes cannot be baked.
    #[error("the credential cannot be baked: {0}")]
    BadCredential(String),
    /// An internal invariant was violated.
    #[error("internal error while baking: {0} (a bug in microcred, please report it)")]
    Internal(&'static str),
}

/// Bakes `credential` (the credential's JSON, or a compact JWS) into a PNG or SVG `image`,
/// replacing any OB 3.0 credential already baked into it. The format comes from the image's
/// first bytes. The credential's bytes are stored unchanged, so [`unbake`] returns them
/// exactly.
pub fn bake(image: &[u8], credential: &[u8]) -> Result<Vec<u8>, BakeError> {
    let kind = check_credential(credential)?;
    let out = match ImageFormat::detect(image) {
        Some(ImageFormat::Png) => bake_png(image, credential)?,
        Some(ImageFormat::Svg) => bake_svg(image, credential, kind)?,
        None => return Err(BakeError::UnknownFormat),
    };
    check_size("baked image", out.len(), MAX_IMAGE_BYTES)?;
    // Byte-exact round trip, checked rather than assumed.
    match unbake(&out) {
        Ok(u) if u.text == credential && u.spec == BakedSpec::OpenBadges3 => Ok(out),
        _ => Err(BakeError::Internal(
            "the baked image does not give back the credential",
        )),
    }
}

/// Extracts the baked credential (OB 3.0) or assertion (OB 2.0) from a PNG or SVG image.
/// An OB 3.0 credential is preferred when an image carries both.
pub fn unbake(image: &[u8]) -> Result<Unbaked, BakeError> {
    match ImageFormat::detect(image) {
        Some(ImageFormat::Png) => unbake_png(image),
        Some(ImageFormat::Svg) => unbake_svg(image),
        None => Err(BakeError::UnknownFormat),
    }
}

/// A simple badge image for an achievement that has none: a coloured medal with a check
/// mark; the SVG also shows the achievement's `name` (escaped). The colour is derived from
/// the name, so one achievement always gets the same image. Fails only on an internal
/// error ([`BakeError::Internal`]: compressing the PNG's pixels in memory failed).
pub fn generated_badge(name: &str, format: ImageFormat) -> Result<Vec<u8>, BakeError> {
    let (fill, ring) = colours(name);
    match format {
        ImageFormat::Png => generated_png(fill, ring),
        ImageFormat::Svg => Ok(generated_svg(name, fill, ring).into_bytes()),
    }
}

// ---------------------------------------------------------------------------------------
// Credential checks

fn check_credential(credential: &[u8]) -> Result<PayloadKind, BakeError> {
    // Room for the iTXt header (keyword and four bytes) inside one chunk.
    check_size(
        "credential",
        credential.len(),
        MAX_CHUNK_BYTES - OB3_PNG_KEYWORD.len() - 5,
    )?;
    if credential.is_empty() {
        return Err(BakeError::BadCredential("it is empty".into()));
    }
    if std::str::from_utf8(credential).is_err() {
        return Err(BakeError::BadCredential("it is not UTF-8 text".into()));
    }
    match PayloadKind::of(credential) {
        PayloadKind::Json => match json::top_level(credential) {
            Ok(json::TopLevel::Object) => Ok(PayloadKind::Json),
            Ok(json::TopLevel::Other) => Err(BakeError::BadCredential(
                "it is JSON but not a JSON object".into(),
            )),
            Err(e) => Err(BakeError::BadCredential(e)),
        },
        PayloadKind::CompactJws if credential == credential.trim_ascii() => {
            Ok(PayloadKind::CompactJws)
        }
        _ => Err(BakeError::BadCredential(
            "it is neither a JSON credential nor a compact JWS (VC-JWT)".into(),
        )),
    }
}

fn is_compact_jws(t: &[u8]) -> bool {
    let mut parts = t.split(|b| *b == b'.');
    let b64 = |p: &[u8]| {
        p.iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
    };
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => {
            !h.is_empty() && !p.is_empty() && !s.is_empty() && b64(h) && b64(p) && b64(s)
        }
        _ => false,
    }
}

fn check_size(what: &'static str, size: usize, limit: usize) -> Result<(), BakeError> {
    if size > limit {
        return Err(BakeError::TooLarge {
            what,
            size,
            limit_mib: limit.div_ceil(1024 * 1024),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// PNG (ISO/IEC 15948, W3C PNG: chunk = length (4, big-endian, at most 2^31-1), type (4),
// data, CRC-32 over type and data)

/// One PNG chunk, borrowed from the image.
struct Chunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
    /// The whole chunk: length, type, data and CRC.
    raw: &'a [u8],
}

/// A text chunk (`tEXt`, `zTXt`, `iTXt`) with one of our keywords.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Ob3,
    Ob2,
}

fn png_err(offset: usize, problem: impl Into<String>) -> BakeError {
    BakeError::Png {
        offset,
        problem: problem.into(),
    }
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// Splits a PNG into chunks, checking the signature, `IHDR` first, every length and CRC,
/// `IEND` last and nothing after it.
fn png_chunks(png: &[u8]) -> Result<Vec<Chunk<'_>>, BakeError> {
    check_size("image", png.len(), MAX_IMAGE_BYTES)?;
    if !png.starts_with(PNG_SIGNATURE) {
        return Err(png_err(
            0,
            "the 8-byte PNG signature is missing or damaged (a truncated file, or one sent as text)",
        ));
    }
    let mut chunks: Vec<Chunk<'_>> = Vec::new();
    let mut pos = PNG_SIGNATURE.len();
    loop {
        if pos >= png.len() {
            return Err(png_err(
                pos,
                "the file ends before the IEND chunk (truncated)",
            ));
        }
        let (Some(len), Some(kind)) = (read_u32(png, pos), png.get(pos + 4..pos + 8)) else {
            return Err(png_err(
                pos,
                "the file ends inside a chunk header (truncated)",
            ));
        };
        let kind: [u8; 4] = kind
            .try_into()
            .map_err(|_| BakeError::Internal("chunk type is not 4 bytes"))?;
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(png_err(
                pos + 4,
                format!("invalid chunk type {:?}", String::from_utf8_lossy(&kind)),
            ));
        }
        let name = String::from_utf8_lossy(&kind).into_owned();
        if len > 0x7FFF_FFFF {
            return Err(png_err(
                pos,
                format!("chunk {name} declares {len} bytes, more than PNG allows (2^31-1)"),
            ));
        }
        let len = len as usize;
        if len > MAX_CHUNK_BYTES {
            return Err(png_err(
                pos,
                format!(
                    "chunk {name} declares {len} bytes, over the {} MiB limit",
                    MAX_CHUNK_BYTES >> 20
                ),
            ));
        }
        let data_start = pos + 8;
        let data_end = data_start + len;
        let Some(data) = png.get(data_start..data_end) else {
            return Err(png_err(
                pos,
                format!(
                    "chunk {name} declares {len} bytes but only {} follow (truncated)",
                    png.len().saturating_sub(data_start)
                ),
            ));
        };
        let Some(stored_crc) = read_u32(png, data_end) else {
            return Err(png_err(
                data_end,
                format!("chunk {name} is cut off before its CRC (truncated)"),
            ));
        };
        if crc32(&[&kind, data]) != stored_crc {
            return Err(png_err(
                pos,
                format!("chunk {name} fails its CRC-32 check (the file was altered or damaged)"),
            ));
        }
        let end = data_end + 4;
        let raw = png
            .get(pos..end)
            .ok_or(BakeError::Internal("chunk bounds"))?;
        if chunks.is_empty() && (&kind != b"IHDR" || len != 13) {
            return Err(png_err(pos, "the first chunk is not a 13-byte IHDR"));
        }
        chunks.push(Chunk { kind, data, raw });
        pos = end;
        if &kind == b"IEND" {
            if pos != png.len() {
                return Err(png_err(
                    pos,
                    format!("{} bytes follow the IEND chunk", png.len() - pos),
                ));
            }
            return Ok(chunks);
        }
    }
}

/// The keyword of a text chunk, if it is one of ours.
fn our_keyword(chunk: &Chunk<'_>) -> Option<Keyword> {
    if !matches!(&chunk.kind, b"tEXt" | b"zTXt" | b"iTXt") {
        return None;
    }
    let nul = chunk.data.iter().position(|b| *b == 0)?;
    match chunk.data.get(..nul)? {
        k if k == OB3_PNG_KEYWORD.as_bytes() => Some(Keyword::Ob3),
        k if k == OB2_PNG_KEYWORD.as_bytes() => Some(Keyword::Ob2),
        _ => None,
    }
}

/// The text of an `iTXt` chunk (keyword, NUL, compression flag, compression method,
/// language tag, NUL, translated keyword, NUL, text), refusing compressed text.
fn itxt_text<'a>(chunk: &Chunk<'a>, offset: usize) -> Result<&'a [u8], BakeError> {
    let malformed = || png_err(offset, "a malformed iTXt chunk (missing separators)");
    let nul = chunk
        .data
        .iter()
        .position(|b| *b == 0)
        .ok_or_else(malformed)?;
    let rest = chunk.data.get(nul + 1..).ok_or_else(malformed)?;
    let (&[flag, _method], rest) = rest.split_first_chunk::<2>().ok_or_else(malformed)?;
    if flag != 0 {
        return Err(png_err(
            offset,
            "the baked text is compressed, which Open Badges forbids (\"Compression MUST NOT be used\")",
        ));
    }
    let lang_end = rest.iter().position(|b| *b == 0).ok_or_else(malformed)?;
    let rest = rest.get(lang_end + 1..).ok_or_else(malformed)?;
    let kw_end = rest.iter().position(|b| *b == 0).ok_or_else(malformed)?;
    let text = rest.get(kw_end + 1..).ok_or_else(malformed)?;
    if std::str::from_utf8(text).is_err() {
        return Err(png_err(
            offset,
            "the baked text is not UTF-8, as iTXt requires",
        ));
    }
    Ok(text)
}

fn unbake_png(png: &[u8]) -> Result<Unbaked, BakeError> {
    let chunks = png_chunks(png)?;
    let mut ob3: Vec<&[u8]> = Vec::new();
    let mut ob2: Vec<(&'static str, &[u8])> = Vec::new();
    let mut offset = PNG_SIGNATURE.len();
    for chunk in &chunks {
        match (our_keyword(chunk), &chunk.kind) {
            (Some(Keyword::Ob3), b"iTXt") => ob3.push(itxt_text(chunk, offset)?),
            (Some(Keyword::Ob3), _) => {
                return Err(png_err(
                    offset,
                    "the credential is in a tEXt/zTXt chunk; Open Badges 3.0 requires an \
                     uncompressed iTXt chunk",
                ))
            }
            (Some(Keyword::Ob2), b"iTXt") => {
                ob2.push(("iTXt chunk `openbadges`", itxt_text(chunk, offset)?));
            }
            (Some(Keyword::Ob2), b"tEXt") => {
                // Pre-1.0 baking: the URL of a hosted assertion (Latin-1 text).
                let text = chunk
                    .data
                    .get(OB2_PNG_KEYWORD.len() + 1..)
                    .ok_or_else(|| png_err(offset, "a malformed tEXt chunk"))?;
                ob2.push(("tEXt chunk `openbadges` (legacy hosted URL)", text));
            }
            (Some(Keyword::Ob2), _) => {
                return Err(png_err(
                    offset,
                    "the OB 2.0 assertion is in a compressed zTXt chunk, which the baking \
                     specification forbids",
                ))
            }
            (None, _) => {}
        }
        offset += chunk.raw.len();
    }
    let pick = |count: usize, what| {
        if count > 1 {
            Err(BakeError::Several {
                format: ImageFormat::Png,
                count,
                what,
            })
        } else {
            Ok(())
        }
    };
    pick(ob3.len(), "credentials (`openbadgecredential` iTXt chunks)")?;
    if let Some(text) = ob3.first() {
        return Ok(Unbaked {
            format: ImageFormat::Png,
            spec: BakedSpec::OpenBadges3,
            found_in: "iTXt chunk `openbadgecredential`",
            text: text.to_vec(),
        });
    }
    pick(ob2.len(), "OB 2.0 assertions (`openbadges` chunks)")?;
    match ob2.first() {
        Some(&(found_in, text)) => Ok(Unbaked {
            format: ImageFormat::Png,
            spec: BakedSpec::OpenBadges2,
            found_in,
            text: text.to_vec(),
        }),
        None => Err(BakeError::NotBaked {
            format: ImageFormat::Png,
            looked_for: "`openbadgecredential` iTXt chunk",
        }),
    }
}

fn bake_png(png: &[u8], credential: &[u8]) -> Result<Vec<u8>, BakeError> {
    let chunks = png_chunks(png)?;
    let existing = chunks
        .iter()
        .filter(|c| our_keyword(c) == Some(Keyword::Ob3))
        .count();
    if existing > 1 {
        return Err(BakeError::Several {
            format: ImageFormat::Png,
            count: existing,
            what: "credentials (`openbadgecredential` chunks)",
        });
    }
    if chunks.iter().any(|c| our_keyword(c) == Some(Keyword::Ob2)) {
        return Err(BakeError::HasOpenBadges2 {
            format: ImageFormat::Png,
        });
    }
    // keyword, NUL, compression flag 0, compression method 0, empty language tag (NUL),
    // empty translated keyword (NUL), text.
    let mut data = Vec::with_capacity(OB3_PNG_KEYWORD.len() + 5 + credential.len());
    data.extend_from_slice(OB3_PNG_KEYWORD.as_bytes());
    data.extend_from_slice(&[0, 0, 0, 0, 0]);
    data.extend_from_slice(credential);
    let mut out = Vec::with_capacity(png.len() + data.len() + 12);
    out.extend_from_slice(PNG_SIGNATURE);
    for chunk in &chunks {
        if our_keyword(chunk) == Some(Keyword::Ob3) {
            continue; // replaced
        }
        out.extend_from_slice(chunk.raw);
        if &chunk.kind == b"IHDR" {
            write_chunk(&mut out, b"iTXt", &data)?;
        }
    }
    Ok(out)
}

fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) -> Result<(), BakeError> {
    let len = u32::try_from(data.len())
        .ok()
        .filter(|l| *l <= 0x7FFF_FFFF)
        .ok_or(BakeError::Internal("chunk too long"))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
    Ok(())
}

/// CRC-32 as PNG uses it (ISO 3309 / ITU-T V.42, the one `crc32fast` computes), over the
/// concatenation of `parts`.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for part in parts {
        h.update(part);
    }
    h.finalize()
}

// ---------------------------------------------------------------------------------------
// SVG: a small, careful XML scanner. It tracks elements, attributes, namespace
// declarations, comments, processing instructions and CDATA sections; it never reads a DTD
// and never expands an entity other than the five predefined ones and character references.

fn svg_err(offset: usize, problem: impl Into<String>) -> BakeError {
    BakeError::Svg {
        offset,
        problem: problem.into(),
    }
}

fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// XML 1.0 `Char`.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let tail = hay.get(from..)?;
    if needle.is_empty() || tail.len() < needle.len() {
        return None;
    }
    tail.windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn skip_space(b: &[u8], mut pos: usize) -> usize {
    while b.get(pos).is_some_and(|c| is_xml_space(*c)) {
        pos += 1;
    }
    pos
}

/// Reads an XML name starting at `pos`; returns its end.
fn read_name(svg: &[u8], pos: usize) -> Result<usize, BakeError> {
    let mut end = pos;
    while svg.get(end).is_some_and(|c| {
        !is_xml_space(*c) && !matches!(c, b'/' | b'>' | b'<' | b'=' | b'"' | b'\'')
    }) {
        end += 1;
    }
    if end == pos {
        return Err(if end >= svg.len() {
            svg_err(pos, "the file ends inside a tag (truncated)")
        } else {
            svg_err(pos, "expected an element or attribute name")
        });
    }
    Ok(end)
}

/// A start tag: name, attributes (name and raw value ranges), where it closes.
struct StartTag {
    name: (usize, usize),
    attrs: Vec<((usize, usize), (usize, usize))>,
    /// Offset of the `/` of `/>`, or of `>`.
    close_at: usize,
    /// Offset just after the tag.
    end: usize,
    self_closing: bool,
}

fn read_start_tag(svg: &[u8], pos: usize) -> Result<StartTag, BakeError> {
    let name_end = read_name(svg, pos + 1)?;
    let mut p = name_end;
    let mut attrs = Vec::new();
    loop {
        let q = skip_space(svg, p);
        match svg.get(q) {
            None => return Err(svg_err(q, "the file ends inside a tag (truncated)")),
            Some(b'>') => {
                return Ok(StartTag {
                    name: (pos + 1, name_end),
                    attrs,
                    close_at: q,
                    end: q + 1,
                    self_closing: false,
                })
            }
            Some(b'/') => {
                if svg.get(q + 1) != Some(&b'>') {
                    return Err(svg_err(q, "`/` inside a tag must be followed by `>`"));
                }
                return Ok(StartTag {
                    name: (pos + 1, name_end),
                    attrs,
                    close_at: q,
                    end: q + 2,
                    self_closing: true,
                });
            }
            Some(_) => {
                if q == p {
                    return Err(svg_err(q, "attributes must be separated by white space"));
                }
                let an_end = read_name(svg, q)?;
                let r = skip_space(svg, an_end);
                if svg.get(r) != Some(&b'=') {
                    return Err(svg_err(r, "an attribute needs `=` and a quoted value"));
                }
                let r = skip_space(svg, r + 1);
                let quote = match svg.get(r) {
                    Some(&c @ (b'"' | b'\'')) => c,
                    None => return Err(svg_err(r, "the file ends inside a tag (truncated)")),
                    Some(_) => return Err(svg_err(r, "attribute values must be quoted")),
                };
                let close = svg
                    .get(r + 1..)
                    .and_then(|t| t.iter().position(|c| *c == quote))
                    .map(|i| i + r + 1)
                    .ok_or_else(|| svg_err(r, "an attribute value is not closed (truncated)"))?;
                if svg.get(r + 1..close).is_some_and(|v| v.contains(&b'<')) {
                    return Err(svg_err(r, "`<` is not allowed in an attribute value"));
                }
                attrs.push(((q, an_end), (r + 1, close)));
                p = close + 1;
            }
        }
    }
}

/// Decodes character data: the five predefined entities and character references; any
/// other entity reference is refused (nothing is ever looked up in a DTD).
fn decode_text(raw: &[u8], offset: usize) -> Result<String, BakeError> {
    let text = std::str::from_utf8(raw).map_err(|_| svg_err(offset, "not UTF-8 text"))?;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, after)) = rest.split_once('&') {
        out.push_str(before);
        let (name, tail) = after
            .split_once(';')
            .filter(|(n, _)| n.len() <= 16)
            .ok_or_else(|| svg_err(offset, "a `&` that does not start an entity reference"))?;
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = name.strip_prefix('#') {
                    dec.parse::<u32>().ok()
                } else {
                    return Err(svg_err(
                        offset,
                        format!(
                            "the entity reference &{name}; is refused: microcred never expands \
                             XML entities; put the credential in a CDATA section"
                        ),
                    ));
                };
                code.and_then(char::from_u32)
                    .filter(|c| is_xml_char(*c))
                    .ok_or_else(|| {
                        svg_err(offset, format!("&{name}; is not a valid XML character"))
                    })?
            }
        };
        out.push(c);
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

/// An attribute value: decoded, with white space characters normalized to spaces (XML 1.0
/// §3.3.3 for CDATA attributes).
fn attr_value(svg: &[u8], range: (usize, usize)) -> Result<String, BakeError> {
    let raw = svg
        .get(range.0..range.1)
        .ok_or(BakeError::Internal("attribute bounds"))?;
    let normalized: Vec<u8> = raw
        .iter()
        .map(|b| {
            if matches!(b, b'\t' | b'\n' | b'\r') {
                b' '
            } else {
                *b
            }
        })
        .collect();
    decode_text(&normalized, range.0)
}

/// The one attribute named `name` on a tag; a repeated attribute is an error.
fn attr<'t>(
    svg: &[u8],
    tag: &'t StartTag,
    name: &[u8],
) -> Result<Option<&'t (usize, usize)>, BakeError> {
    let mut found = tag
        .attrs
        .iter()
        .filter(|((s, e), _)| svg.get(*s..*e) == Some(name));
    let first = found.next().map(|(_, v)| v);
    if found.next().is_some() {
        return Err(svg_err(
            tag.name.0,
            format!(
                "the attribute {} is repeated",
                String::from_utf8_lossy(name)
            ),
        ));
    }
    Ok(first)
}

/// One piece of an element's content.
struct Piece {
    cdata: bool,
    bytes: Vec<u8>,
}

/// An `<openbadges:credential>` or `<openbadges:assertion>` element.
struct Found {
    spec: BakedSpec,
    /// Offset of its start tag's `<`.
    start: usize,
    /// Offset just after its end tag.
    end: usize,
    verify: Option<String>,
    body: Vec<Piece>,
}

impl Found {
    /// The element's character data with white space outside CDATA sections trimmed at both
    /// ends (it is formatting, as in the specification's examples).
    fn body_text(&self) -> Vec<u8> {
        let first = self
            .body
            .iter()
            .position(|p| p.cdata || !p.bytes.iter().all(|b| is_xml_space(*b)));
        let Some(first) = first else {
            return Vec::new();
        };
        let last = self
            .body
            .iter()
            .rposition(|p| p.cdata || !p.bytes.iter().all(|b| is_xml_space(*b)))
            .unwrap_or(first);
        let pieces = self.body.get(first..=last).unwrap_or_default();
        let mut out = Vec::new();
        for (i, p) in pieces.iter().enumerate() {
            let mut bytes: &[u8] = &p.bytes;
            if !p.cdata {
                if i == 0 {
                    bytes = bytes.trim_ascii_start();
                }
                if i + 1 == pieces.len() {
                    bytes = bytes.trim_ascii_end();
                }
            }
            out.extend_from_slice(bytes);
        }
        out
    }
}

/// The root `<svg>` start tag.
struct Root {
    name: (usize, usize),
    close_at: usize,
    end: usize,
    self_closing: bool,
    /// The value of its `xmlns:openbadges` attribute, if any.
    openbadges_ns: Option<String>,
}

struct SvgScan {
    root: Root,
    found: Vec<Found>,
}

/// An open element: its name, its namespace declarations, whether it is a `Found`.
struct Open {
    name: (usize, usize),
    bindings: Vec<(Vec<u8>, String)>,
    found: bool,
}

fn scan_svg(svg: &[u8]) -> Result<SvgScan, BakeError> {
    check_size("image", svg.len(), MAX_IMAGE_BYTES)?;
    if svg.starts_with(b"\xFE\xFF") || svg.starts_with(b"\xFF\xFE") {
        return Err(svg_err(0, "the SVG is UTF-16 text; save it as UTF-8"));
    }
    if let Err(e) = std::str::from_utf8(svg) {
        return Err(svg_err(
            e.valid_up_to(),
            "the SVG is not UTF-8 text; save it as UTF-8",
        ));
    }
    let mut pos = if svg.starts_with(UTF8_BOM) { 3 } else { 0 };
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Root> = None;
    let mut root_closed = false;
    let mut found: Vec<Found> = Vec::new();
    let mut current: Option<Found> = None;
    while let Some(rest) = svg.get(pos..).filter(|r| !r.is_empty()) {
        if !rest.starts_with(b"<") {
            let end = find(svg, b"<", pos).unwrap_or(svg.len());
            let raw = svg.get(pos..end).unwrap_or_default();
            if let Some(f) = current.as_mut() {
                f.body.push(Piece {
                    cdata: false,
                    bytes: decode_text(raw, pos)?.into_bytes(),
                });
            } else if stack.is_empty() && !raw.iter().all(|b| is_xml_space(*b)) {
                return Err(svg_err(pos, "text outside the <svg> element"));
            }
            pos = end;
        } else if rest.starts_with(b"<!--") {
            let end = find(svg, b"-->", pos + 4)
                .ok_or_else(|| svg_err(pos, "a comment is not closed (truncated)"))?;
            pos = end + 3;
        } else if rest.starts_with(b"<![CDATA[") {
            let start = pos + 9;
            let end = find(svg, b"]]>", start)
                .ok_or_else(|| svg_err(pos, "a CDATA section is not closed (truncated)"))?;
            if let Some(f) = current.as_mut() {
                f.body.push(Piece {
                    cdata: true,
                    bytes: svg.get(start..end).unwrap_or_default().to_vec(),
                });
            } else if stack.is_empty() {
                return Err(svg_err(pos, "a CDATA section outside the <svg> element"));
            }
            pos = end + 3;
        } else if rest.starts_with(b"<?") {
            let end = find(svg, b"?>", pos + 2)
                .ok_or_else(|| svg_err(pos, "a processing instruction is not closed"))?;
            let body = svg.get(pos + 2..end).unwrap_or_default();
            if body.starts_with(b"xml") && body.get(3).is_some_and(|b| is_xml_space(*b)) {
                check_encoding(body, pos)?;
            }
            pos = end + 2;
        } else if rest.len() >= 9
            && rest
                .get(..9)
                .is_some_and(|h| h.eq_ignore_ascii_case(b"<!DOCTYPE"))
        {
            if root.is_some() {
                return Err(svg_err(pos, "a DOCTYPE inside the document"));
            }
            pos = skip_doctype(svg, pos)?;
        } else if rest.starts_with(b"<!") {
            let what = String::from_utf8_lossy(rest.get(..rest.len().min(12)).unwrap_or_default())
                .into_owned();
            return Err(svg_err(
                pos,
                format!(
                    "the markup declaration `{what}…` is refused: microcred never processes \
                     DTDs or entity declarations; remove it from the image"
                ),
            ));
        } else if rest.starts_with(b"</") {
            let name_end = read_name(svg, pos + 2)?;
            let close = skip_space(svg, name_end);
            if svg.get(close) != Some(&b'>') {
                return Err(svg_err(pos, "a malformed end tag"));
            }
            let name = svg.get(pos + 2..name_end).unwrap_or_default();
            let Some(open) = stack.pop() else {
                return Err(svg_err(pos, "an end tag without a start tag"));
            };
            if svg.get(open.name.0..open.name.1) != Some(name) {
                return Err(svg_err(
                    pos,
                    format!(
                        "the end tag </{}> does not match <{}>",
                        String::from_utf8_lossy(name),
                        String::from_utf8_lossy(
                            svg.get(open.name.0..open.name.1).unwrap_or_default()
                        )
                    ),
                ));
            }
            if open.found {
                if let Some(mut f) = current.take() {
                    f.end = close + 1;
                    found.push(f);
                }
            }
            root_closed |= stack.is_empty();
            pos = close + 1;
        } else {
            let tag = read_start_tag(svg, pos)?;
            if root_closed {
                return Err(svg_err(
                    pos,
                    "an element after the end of the <svg> element",
                ));
            }
            if current.is_some() {
                return Err(svg_err(
                    pos,
                    "an element inside <openbadges:credential>: it may hold only the credential",
                ));
            }
            if stack.len() >= MAX_SVG_DEPTH {
                return Err(svg_err(
                    pos,
                    format!("elements nested deeper than {MAX_SVG_DEPTH}"),
                ));
            }
            let qname = svg.get(tag.name.0..tag.name.1).unwrap_or_default();
            let (prefix, local) = match qname.iter().position(|b| *b == b':') {
                Some(i) => (qname.get(..i), qname.get(i + 1..).unwrap_or_default()),
                None => (None, qname),
            };
            let mut bindings = Vec::new();
            for ((ns, ne), value) in &tag.attrs {
                let an = svg.get(*ns..*ne).unwrap_or_default();
                if an == b"xmlns" {
                    bindings.push((Vec::new(), attr_value(svg, *value)?));
                } else if let Some(p) = an.strip_prefix(b"xmlns:") {
                    bindings.push((p.to_vec(), attr_value(svg, *value)?));
                }
            }
            if root.is_none() {
                if local != b"svg" {
                    return Err(svg_err(
                        pos,
                        format!(
                            "the root element is <{}>, not <svg>",
                            String::from_utf8_lossy(qname)
                        ),
                    ));
                }
                root = Some(Root {
                    name: tag.name,
                    close_at: tag.close_at,
                    end: tag.end,
                    self_closing: tag.self_closing,
                    openbadges_ns: bindings
                        .iter()
                        .find(|(p, _)| p == b"openbadges")
                        .map(|(_, v)| v.clone()),
                });
            }
            let prefix_key = prefix.unwrap_or_default();
            let ns = bindings
                .iter()
                .rev()
                .chain(stack.iter().rev().flat_map(|o| o.bindings.iter().rev()))
                .find(|(p, _)| p == prefix_key)
                .map(|(_, v)| v.as_str());
            let ob_prefix = prefix == Some(b"openbadges".as_slice());
            let spec = match local {
                b"credential" if ns == Some(OB3_SVG_NAMESPACE) || ob_prefix => {
                    Some(BakedSpec::OpenBadges3)
                }
                b"assertion" if ns == Some(OB2_SVG_NAMESPACE) || ob_prefix => {
                    Some(BakedSpec::OpenBadges2)
                }
                _ => None,
            };
            if let Some(spec) = spec {
                if found.len() >= MAX_SVG_FOUND {
                    return Err(BakeError::Several {
                        format: ImageFormat::Svg,
                        count: found.len() + 1,
                        what: "Open Badges elements",
                    });
                }
                let verify = attr(svg, &tag, b"verify")?
                    .map(|v| attr_value(svg, *v))
                    .transpose()?;
                let f = Found {
                    spec,
                    start: pos,
                    end: tag.end,
                    verify,
                    body: Vec::new(),
                };
                if tag.self_closing {
                    found.push(f);
                } else {
                    current = Some(f);
                }
            }
            if tag.self_closing {
                root_closed |= stack.is_empty();
            } else {
                stack.push(Open {
                    name: tag.name,
                    bindings,
                    found: spec.is_some(),
                });
            }
            pos = tag.end;
        }
    }
    if let Some(open) = stack.last() {
        return Err(svg_err(
            svg.len(),
            format!(
                "the file ends inside <{}> (truncated)",
                String::from_utf8_lossy(svg.get(open.name.0..open.name.1).unwrap_or_default())
            ),
        ));
    }
    let root = root.ok_or_else(|| svg_err(0, "there is no <svg> element"))?;
    Ok(SvgScan { root, found })
}

/// Skips `<!DOCTYPE …>` with an external identifier only. An internal subset (`[ … ]`, where
/// entities are declared) is refused: entities are never expanded here.
fn skip_doctype(svg: &[u8], pos: usize) -> Result<usize, BakeError> {
    let mut quote: Option<u8> = None;
    let mut p = pos + 9;
    while let Some(&c) = svg.get(p) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'[') => {
                return Err(svg_err(
                    pos,
                    "a DOCTYPE with an internal subset (where XML entities are declared) is \
                     refused: microcred never expands entities; remove the DOCTYPE from the image",
                ))
            }
            (None, b'>') => return Ok(p + 1),
            (None, _) => {}
        }
        p += 1;
    }
    Err(svg_err(pos, "the DOCTYPE is not closed (truncated)"))
}

/// The XML declaration's `encoding`, if any, must be UTF-8 (or its ASCII subset).
fn check_encoding(decl: &[u8], pos: usize) -> Result<(), BakeError> {
    let Some(at) = find(decl, b"encoding", 0) else {
        return Ok(());
    };
    let p = skip_space(decl, at + 8);
    let p = if decl.get(p) == Some(&b'=') {
        skip_space(decl, p + 1)
    } else {
        p
    };
    let value = match decl.get(p) {
        Some(&q @ (b'"' | b'\'')) => decl
            .get(p + 1..)
            .and_then(|t| t.iter().position(|c| *c == q).and_then(|e| t.get(..e))),
        _ => None,
    }
    .ok_or_else(|| svg_err(pos, "a malformed encoding declaration"))?;
    let ok = [b"utf-8".as_slice(), b"utf8", b"us-ascii", b"ascii"]
        .iter()
        .any(|e| value.eq_ignore_ascii_case(e));
    if !ok {
        return Err(svg_err(
            pos,
            format!(
                "the SVG declares encoding \"{}\"; save it as UTF-8",
                String::from_utf8_lossy(value)
            ),
        ));
    }
    Ok(())
}

fn unbake_svg(svg: &[u8]) -> Result<Unbaked, BakeError> {
    let scan = scan_svg(svg)?;
    let of = |spec| scan.found.iter().filter(move |f| f.spec == spec);
    let ob3: Vec<&Found> = of(BakedSpec::OpenBadges3).collect();
    if ob3.len() > 1 {
        return Err(BakeError::Several {
            format: ImageFormat::Svg,
            count: ob3.len(),
            what: "credentials (<openbadges:credential> elements)",
        });
    }
    if let Some(f) = ob3.first() {
        let body = f.body_text();
        let (text, found_in) = match (&f.verify, body.is_empty()) {
            (Some(_), false) => {
                return Err(svg_err(
                    f.start,
                    "<openbadges:credential> has both a `verify` attribute and a body; Open \
                     Badges 3.0 allows one or the other, so it is ambiguous which is meant",
                ))
            }
            (None, false) => (body, "<openbadges:credential> element"),
            (Some(v), true) => (
                v.clone().into_bytes(),
                "`verify` attribute of <openbadges:credential>",
            ),
            (None, true) => return Err(svg_err(f.start, "<openbadges:credential> is empty")),
        };
        check_size("credential", text.len(), MAX_CHUNK_BYTES)?;
        return Ok(Unbaked {
            format: ImageFormat::Svg,
            spec: BakedSpec::OpenBadges3,
            found_in,
            text,
        });
    }
    let ob2: Vec<&Found> = of(BakedSpec::OpenBadges2).collect();
    if ob2.len() > 1 {
        return Err(BakeError::Several {
            format: ImageFormat::Svg,
            count: ob2.len(),
            what: "OB 2.0 assertions (<openbadges:assertion> elements)",
        });
    }
    let Some(f) = ob2.first() else {
        return Err(BakeError::NotBaked {
            format: ImageFormat::Svg,
            looked_for: "<openbadges:credential> element",
        });
    };
    // OB 2.0: a body is the assertion's JSON; without one, `verify` holds the signed
    // assertion or the hosted assertion's URL.
    let body = f.body_text();
    let (text, found_in) = match (&f.verify, body.is_empty()) {
        (_, false) => (body, "<openbadges:assertion> element"),
        (Some(v), true) => (
            v.clone().into_bytes(),
            "`verify` attribute of <openbadges:assertion>",
        ),
        (None, true) => return Err(svg_err(f.start, "<openbadges:assertion> is empty")),
    };
    check_size("credential", text.len(), MAX_CHUNK_BYTES)?;
    Ok(Unbaked {
        format: ImageFormat::Svg,
        spec: BakedSpec::OpenBadges2,
        found_in,
        text,
    })
}

fn bake_svg(svg: &[u8], credential: &[u8], kind: PayloadKind) -> Result<Vec<u8>, BakeError> {
    let text = std::str::from_utf8(credential)
        .map_err(|_| BakeError::BadCredential("it is not UTF-8 text".into()))?;
    if let Some(c) = text.chars().find(|c| !is_xml_char(*c)) {
        return Err(BakeError::BadCredential(format!(
            "it contains U+{:04X}, which XML (SVG) cannot carry; bake it into a PNG instead",
            u32::from(c)
        )));
    }
    let scan = scan_svg(svg)?;
    if scan.found.iter().any(|f| f.spec == BakedSpec::OpenBadges2) {
        return Err(BakeError::HasOpenBadges2 {
            format: ImageFormat::Svg,
        });
    }
    let existing: Vec<&Found> = scan.found.iter().collect();
    if existing.len() > 1 {
        return Err(BakeError::Several {
            format: ImageFormat::Svg,
            count: existing.len(),
            what: "credentials (<openbadges:credential> elements)",
        });
    }
    let root = &scan.root;
    let ns_attr = match root.openbadges_ns.as_deref() {
        Some(OB3_SVG_NAMESPACE) => None,
        Some(other) => {
            return Err(svg_err(
                root.name.0,
                format!(
                    "<svg> binds the prefix openbadges to \"{other}\", not the Open Badges 3.0 \
                     namespace {OB3_SVG_NAMESPACE}; bake into the original image"
                ),
            ))
        }
        None => Some(format!(" xmlns:openbadges=\"{OB3_SVG_NAMESPACE}\"")),
    };
    let mut element = String::with_capacity(text.len() + 80);
    if kind == PayloadKind::CompactJws {
        element.push_str("<openbadges:credential verify=\"");
        element.push_str(&escape_xml(text));
        element.push_str("\"></openbadges:credential>");
    } else {
        // `]]>` cannot appear inside a CDATA section: end the section after `]]` and start a
        // new one before `>`; the concatenated character data is unchanged.
        element.push_str("<openbadges:credential><![CDATA[");
        element.push_str(&text.replace("]]>", "]]]]><![CDATA[>"));
        element.push_str("]]></openbadges:credential>");
    }
    let part = |a: usize, b: usize| svg.get(a..b).ok_or(BakeError::Internal("SVG bounds"));
    let mut out = Vec::with_capacity(svg.len() + element.len() + 64);
    out.extend_from_slice(part(0, root.name.1)?);
    if let Some(a) = &ns_attr {
        out.extend_from_slice(a.as_bytes());
    }
    match existing.first() {
        Some(f) => {
            out.extend_from_slice(part(root.name.1, f.start)?);
            out.extend_from_slice(element.as_bytes());
            out.extend_from_slice(part(f.end, svg.len())?);
        }
        None if root.self_closing => {
            out.extend_from_slice(part(root.name.1, root.close_at)?);
            out.push(b'>');
            out.extend_from_slice(element.as_bytes());
            out.extend_from_slice(b"</");
            out.extend_from_slice(part(root.name.0, root.name.1)?);
            out.push(b'>');
            out.extend_from_slice(part(root.end, svg.len())?);
        }
        None => {
            out.extend_from_slice(part(root.name.1, root.end)?);
            out.extend_from_slice(element.as_bytes());
            out.extend_from_slice(part(root.end, svg.len())?);
        }
    }
    Ok(out)
}

fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if is_xml_char(c) && c != '\r' => out.push(c),
            _ => out.push(' '),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Generated badge images

/// Fill and ring colours (RGB) chosen from the name.
fn colours(name: &str) -> ([u8; 3], [u8; 3]) {
    const PALETTE: [([u8; 3], [u8; 3]); 6] = [
        ([0x1F, 0x5F, 0xA8], [0x0E, 0x32, 0x5C]), // blue
        ([0x1B, 0x7F, 0x5B], [0x0D, 0x45, 0x30]), // green
        ([0x8A, 0x3F, 0xA0], [0x4A, 0x1F, 0x57]), // purple
        ([0xB0, 0x4A, 0x1E], [0x5E, 0x26, 0x0E]), // rust
        ([0x0F, 0x76, 0x8C], [0x07, 0x3F, 0x4B]), // teal
        ([0x9C, 0x2B, 0x4E], [0x54, 0x15, 0x29]), // crimson
    ];
    let h = crc32(&[name.as_bytes()]) as usize % PALETTE.len();
    PALETTE.get(h).copied().unwrap_or(PALETTE[0])
}

fn hex(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// Splits a name into at most three lines of about 16 characters, shortening the last.
fn wrap(name: &str) -> Vec<String> {
    const WIDTH: usize = 16;
    const LINES: usize = 3;
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut words: Vec<String> = Vec::new();
    for w in name.split_whitespace() {
        let chars: Vec<char> = w.chars().collect();
        for piece in chars.chunks(WIDTH) {
            words.push(piece.iter().collect());
        }
    }
    let mut truncated = false;
    for w in words {
        let len = line.chars().count();
        if len > 0 && len + 1 + w.chars().count() > WIDTH {
            lines.push(std::mem::take(&mut line));
            if lines.len() == LINES {
                truncated = true;
                break;
            }
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&w);
    }
    if !truncated && !line.is_empty() {
        lines.push(line);
    }
    if truncated {
        if let Some(last) = lines.last_mut() {
            let kept: String = last.chars().take(WIDTH - 1).collect();
            *last = format!("{}…", kept.trim_end());
        }
    }
    lines
}

fn generated_svg(name: &str, fill: [u8; 3], ring: [u8; 3]) -> String {
    let title = escape_xml(name.trim());
    let lines = wrap(name);
    let n = lines.len();
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate() {
        // Lines 28 px apart, centred a little below the middle.
        let y = 150 + 28 * i as i64 - 14 * n.saturating_sub(1) as i64;
        text.push_str(&format!(
            "  <text x=\"128\" y=\"{y}\" text-anchor=\"middle\" font-family=\"Helvetica, Arial, \
             sans-serif\" font-size=\"22\" font-weight=\"bold\" fill=\"#ffffff\">{}</text>\n",
            escape_xml(line)
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"256\" height=\"256\" \
         viewBox=\"0 0 256 256\" role=\"img\" aria-label=\"{title}\">\n\
         \x20 <title>{title}</title>\n\
         \x20 <circle cx=\"128\" cy=\"128\" r=\"124\" fill=\"{ring}\"/>\n\
         \x20 <circle cx=\"128\" cy=\"128\" r=\"112\" fill=\"#ffffff\"/>\n\
         \x20 <circle cx=\"128\" cy=\"128\" r=\"104\" fill=\"{fill}\"/>\n\
         \x20 <path d=\"M104 76 l14 14 l30 -30\" fill=\"none\" stroke=\"#ffffff\" \
         stroke-width=\"9\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/>\n\
         {text}</svg>\n",
        ring = hex(ring),
        fill = hex(fill),
    )
}

/// A 256×256 PNG: 2-bit palette (transparent, ring, white, fill), a medal with a check mark,
/// the pixels deflated by `flate2` at its fastest level (2.6 KB; stored blocks took 16.7 KB).
fn generated_png(fill: [u8; 3], ring: [u8; 3]) -> Result<Vec<u8>, BakeError> {
    const SIZE: u32 = 256;
    let row_bytes = (SIZE as usize) / 4;
    let mut raw = Vec::with_capacity((row_bytes + 1) * SIZE as usize);
    for y in 0..SIZE {
        raw.push(0); // filter: none
        let mut byte = 0u8;
        for x in 0..SIZE {
            let (fx, fy) = (f64::from(x) + 0.5 - 128.0, f64::from(y) + 0.5 - 128.0);
            let d = (fx * fx + fy * fy).sqrt();
            let check = dist_to_polyline(
                (f64::from(x) + 0.5, f64::from(y) + 0.5),
                &[(88.0, 132.0), (116.0, 160.0), (172.0, 100.0)],
            );
            let index: u8 = if d > 124.0 {
                0
            } else if d > 112.0 {
                1
            } else if d > 104.0 || check <= 9.0 {
                2
            } else {
                3
            };
            byte = (byte << 2) | index;
            if x % 4 == 3 {
                raw.push(byte);
                byte = 0;
            }
        }
    }
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let idat = zlib
        .write_all(&raw)
        .and_then(|()| zlib.finish())
        .map_err(|_| BakeError::Internal("compressing the generated PNG failed"))?;
    let mut png = Vec::with_capacity(idat.len() + 200);
    png.extend_from_slice(PNG_SIGNATURE);
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&SIZE.to_be_bytes());
    ihdr.extend_from_slice(&SIZE.to_be_bytes());
    ihdr.extend_from_slice(&[2, 3, 0, 0, 0]); // bit depth 2, palette, deflate, adaptive, none
    let mut plte = Vec::with_capacity(12);
    for c in [[0, 0, 0], ring, [0xFF, 0xFF, 0xFF], fill] {
        plte.extend_from_slice(&c);
    }
    let chunks: [(&[u8; 4], Vec<u8>); 5] = [
        (b"IHDR", ihdr),
        (b"PLTE", plte),
        (b"tRNS", vec![0]), // index 0 fully transparent
        (b"IDAT", idat),
        (b"IEND", Vec::new()),
    ];
    for (kind, data) in &chunks {
        write_chunk(&mut png, kind, data)?;
    }
    Ok(png)
}

fn dist_to_polyline(p: (f64, f64), points: &[(f64, f64)]) -> f64 {
    points
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => Some(dist_to_segment(p, *a, *b)),
            _ => None,
        })
        .fold(f64::INFINITY, f64::min)
}

fn dist_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cred() -> Vec<u8> {
        br#"{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential","OpenBadgeCredential"],"name":"Caf\u00e9 ]]> <b>&amp;</b>","proof":{"type":"DataIntegrityProof"}}"#
            .to_vec()
    }

    fn png() -> Vec<u8> {
        generated_badge("Digital Fluency 1", ImageFormat::Png).unwrap()
    }

    fn svg() -> Vec<u8> {
        generated_badge("Digital Fluency 1", ImageFormat::Svg).unwrap()
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_chunk(&mut out, kind, data).unwrap();
        out
    }

    /// Inserts raw chunk bytes right after IHDR.
    fn with_chunk(png: &[u8], raw: &[u8]) -> Vec<u8> {
        let at = 8 + 25;
        [&png[..at], raw, &png[at..]].concat()
    }

    fn itxt(keyword: &str, flag: u8, text: &[u8]) -> Vec<u8> {
        let mut d = keyword.as_bytes().to_vec();
        d.extend_from_slice(&[0, flag, 0, 0, 0]);
        d.extend_from_slice(text);
        chunk(b"iTXt", &d)
    }

    fn png_problem(r: Result<Unbaked, BakeError>) -> String {
        match r {
            Err(BakeError::Png { problem, .. }) => problem,
            other => panic!("expected a PNG error, got {other:?}"),
        }
    }

    fn svg_problem<T: fmt::Debug>(r: Result<T, BakeError>) -> String {
        match r {
            Err(BakeError::Svg { problem, .. }) => problem,
            other => panic!("expected an SVG error, got {other:?}"),
        }
    }

    #[test]
    fn crc32_matches_known_values() {
        assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[b"IEND"]), 0xAE42_6082);
        assert_eq!(crc32(&[b"IE", b"ND"]), 0xAE42_6082);
    }

    #[test]
    fn detects_formats() {
        assert_eq!(ImageFormat::detect(&png()), Some(ImageFormat::Png));
        assert_eq!(ImageFormat::detect(b"\x89PNG"), Some(ImageFormat::Png));
        assert_eq!(ImageFormat::detect(&svg()), Some(ImageFormat::Svg));
        assert_eq!(
            ImageFormat::detect(b"\xEF\xBB\xBF  <svg/>"),
            Some(ImageFormat::Svg)
        );
        assert_eq!(ImageFormat::detect(b" {\"a\":1}"), None);
        assert_eq!(ImageFormat::detect(b""), None);
    }

    #[test]
    fn png_round_trip_is_byte_exact_and_follows_the_spec() {
        let c = cred();
        let baked = bake(&png(), &c).unwrap();
        let u = unbake(&baked).unwrap();
        assert_eq!(u.text, c);
        assert_eq!(u.format, ImageFormat::Png);
        assert_eq!(u.spec, BakedSpec::OpenBadges3);
        assert_eq!(u.kind(), PayloadKind::Json);
        let chunks = png_chunks(&baked).unwrap();
        // Right after IHDR; keyword, NUL, flag 0, method 0, empty language tag and
        // translated keyword; the text verbatim.
        assert_eq!(&chunks[1].kind, b"iTXt");
        let mut expected = b"openbadgecredential\0\0\0\0\0".to_vec();
        expected.extend_from_slice(&c);
        assert_eq!(chunks[1].data, expected.as_slice());
        // The rest of the image is untouched.
        let original = png();
        assert_eq!(baked.len(), original.len() + 12 + expected.len());
        assert_eq!(&baked[..33], &original[..33]);
        assert_eq!(&baked[33 + 12 + expected.len()..], &original[33..]);
    }

    #[test]
    fn png_rebake_replaces_the_credential() {
        let first = bake(&png(), &cred()).unwrap();
        let other = br#"{"name":"second"}"#;
        let second = bake(&first, other).unwrap();
        assert_eq!(unbake(&second).unwrap().text, other);
        let n = png_chunks(&second)
            .unwrap()
            .iter()
            .filter(|c| our_keyword(c) == Some(Keyword::Ob3))
            .count();
        assert_eq!(n, 1);
        assert_eq!(second.len(), png().len() + 12 + 24 + other.len());
    }

    #[test]
    fn png_truncated_at_every_length_is_an_error() {
        let baked = bake(&png(), &cred()).unwrap();
        for len in 0..baked.len() {
            let r = unbake(&baked[..len]);
            assert!(r.is_err(), "prefix of {len} bytes accepted");
        }
    }

    #[test]
    fn png_bad_crc_is_reported() {
        let mut baked = bake(&png(), &cred()).unwrap();
        let at = 33 + 8 + 30; // inside the credential text
        baked[at] ^= 0x01;
        assert!(png_problem(unbake(&baked)).contains("CRC"));
    }

    #[test]
    fn png_huge_length_fields_are_refused_without_allocating() {
        let mut p = png();
        p[33..37].copy_from_slice(&0x7FFF_FFF0u32.to_be_bytes());
        assert!(png_problem(unbake(&p)).contains("over the 16 MiB limit"));
        p[33..37].copy_from_slice(&0xFFFF_FFFFu32.to_be_bytes());
        assert!(png_problem(unbake(&p)).contains("more than PNG allows"));
        p[33..37].copy_from_slice(&0x0010_0000u32.to_be_bytes());
        assert!(png_problem(unbake(&p)).contains("only"));
        let big = vec![0u8; MAX_IMAGE_BYTES + 1];
        assert!(matches!(
            unbake(&[PNG_SIGNATURE, &big].concat()),
            Err(BakeError::TooLarge { .. })
        ));
    }

    #[test]
    fn png_with_two_credentials_is_refused() {
        let two = with_chunk(
            &with_chunk(&png(), &itxt(OB3_PNG_KEYWORD, 0, b"{\"a\":1}")),
            &itxt(OB3_PNG_KEYWORD, 0, b"{\"a\":2}"),
        );
        assert!(matches!(
            unbake(&two),
            Err(BakeError::Several { count: 2, .. })
        ));
        assert!(matches!(
            bake(&two, &cred()),
            Err(BakeError::Several { count: 2, .. })
        ));
    }

    #[test]
    fn png_structure_errors() {
        let p = png();
        // Not starting with IHDR.
        let bad = [PNG_SIGNATURE, &chunk(b"tEXt", b"a\0b"), &p[8..]].concat();
        assert!(png_problem(unbake(&bad)).contains("IHDR"));
        // Data after IEND.
        let trailing = [&p[..], b"junk"].concat();
        assert!(png_problem(unbake(&trailing)).contains("follow the IEND"));
        // Bad chunk type.
        let mut t = p.clone();
        t[37] = b'1';
        assert!(png_problem(unbake(&t)).contains("chunk type"));
        // Damaged signature.
        let mut s = p.clone();
        s[6] = b'\n';
        assert!(png_problem(unbake(&s)).contains("signature"));
        // Unbaked image.
        assert!(matches!(unbake(&p), Err(BakeError::NotBaked { .. })));
        // Compressed iTXt, non-UTF-8 text, malformed iTXt, tEXt with our keyword.
        let z = with_chunk(&p, &itxt(OB3_PNG_KEYWORD, 1, b"x\x9c"));
        assert!(png_problem(unbake(&z)).contains("compressed"));
        let n = with_chunk(&p, &itxt(OB3_PNG_KEYWORD, 0, b"{\"a\":\"\xff\"}"));
        assert!(png_problem(unbake(&n)).contains("UTF-8"));
        let m = with_chunk(&p, &chunk(b"iTXt", b"openbadgecredential\0\0\0en"));
        assert!(png_problem(unbake(&m)).contains("malformed"));
        let t = with_chunk(&p, &chunk(b"tEXt", b"openbadgecredential\0{}"));
        assert!(png_problem(unbake(&t)).contains("iTXt"));
    }

    #[test]
    fn png_reads_open_badges_2() {
        let p = png();
        let json = with_chunk(&p, &itxt(OB2_PNG_KEYWORD, 0, b"{\"type\":\"Assertion\"}"));
        let u = unbake(&json).unwrap();
        assert_eq!(u.spec, BakedSpec::OpenBadges2);
        assert_eq!(u.kind(), PayloadKind::Json);
        let legacy = with_chunk(&p, &chunk(b"tEXt", b"openbadges\0https://example.org/a/1"));
        let u = unbake(&legacy).unwrap();
        assert_eq!(u.text, b"https://example.org/a/1");
        assert_eq!(u.kind(), PayloadKind::Url);
        assert!(u.found_in.contains("legacy"));
        assert!(matches!(
            bake(&legacy, &cred()),
            Err(BakeError::HasOpenBadges2 { .. })
        ));
    }

    #[test]
    fn svg_round_trip_with_cdata_terminator_in_the_json() {
        let c = cred();
        assert!(c.windows(3).any(|w| w == b"]]>"));
        let baked = bake(&svg(), &c).unwrap();
        let text = String::from_utf8(baked.clone()).unwrap();
        assert!(text.contains("xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\""));
        assert!(text.contains("]]]]><![CDATA[>"));
        // Directly after the <svg> start tag.
        let open = "aria-label=\"Digital Fluency 1\">";
        let root_end = text.find(open).unwrap() + open.len();
        assert!(
            text[root_end..].starts_with("<openbadges:credential><![CDATA["),
            "{text}"
        );
        let u = unbake(&baked).unwrap();
        assert_eq!(u.text, c);
        assert_eq!(u.spec, BakedSpec::OpenBadges3);
        assert_eq!(u.format, ImageFormat::Svg);
        // Re-baking replaces it and keeps one namespace declaration.
        let again = bake(&baked, br#"{"n":1}"#).unwrap();
        let t = String::from_utf8(again.clone()).unwrap();
        assert_eq!(t.matches("<openbadges:credential").count(), 1, "{t}");
        assert_eq!(t.matches("xmlns:openbadges").count(), 1);
        assert_eq!(unbake(&again).unwrap().text, br#"{"n":1}"#);
        // Everything but the inserted text is the original image.
        let original = String::from_utf8(svg()).unwrap();
        let stripped = t
            .replace(
                " xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\"",
                "",
            )
            .replace(
                "<openbadges:credential><![CDATA[{\"n\":1}]]></openbadges:credential>",
                "",
            );
        assert_eq!(stripped, original);
    }

    #[test]
    fn svg_self_closing_root_and_jws() {
        let jws = b"eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2lnbmF0dXJl";
        let baked = bake(b"<svg xmlns='http://www.w3.org/2000/svg'/>", jws).unwrap();
        let text = String::from_utf8(baked.clone()).unwrap();
        assert_eq!(
            text,
            "<svg xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\" \
             xmlns='http://www.w3.org/2000/svg'><openbadges:credential \
             verify=\"eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2lnbmF0dXJl\"></openbadges:credential></svg>"
        );
        let u = unbake(&baked).unwrap();
        assert_eq!(u.text, jws);
        assert_eq!(u.kind(), PayloadKind::CompactJws);
        assert!(u.found_in.contains("verify"));
    }

    #[test]
    fn svg_spec_example_with_whitespace_and_other_prefix() {
        let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
<!-- exported -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0" viewBox="0 0 512 512">
  <openbadges:credential>
    <![CDATA[
      {"type": ["VerifiableCredential"]}
    ]]>
  </openbadges:credential>
  <!-- rest-of-image -->
</svg>"#;
        let u = unbake(doc).unwrap();
        assert_eq!(
            u.text,
            b"\n      {\"type\": [\"VerifiableCredential\"]}\n    "
        );
        assert_eq!(json::top_level(&u.text), Ok(json::TopLevel::Object));
        // Any prefix bound to the namespace works; entity-encoded text is decoded.
        let other = br#"<svg xmlns:ob="https://purl.imsglobal.org/ob/v3p0"><g><ob:credential> {&quot;a&quot;:&#x31;&#50;} </ob:credential></g></svg>"#;
        assert_eq!(unbake(other).unwrap().text, br#"{"a":12}"#);
        // Baking into it replaces that element and declares the usual prefix on <svg>.
        let baked = bake(other, b"{}").unwrap();
        assert_eq!(
            String::from_utf8(baked).unwrap(),
            "<svg xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\" \
             xmlns:ob=\"https://purl.imsglobal.org/ob/v3p0\"><g><openbadges:credential>\
             <![CDATA[{}]]></openbadges:credential></g></svg>"
        );
    }

    #[test]
    fn svg_refuses_dtds_and_entities() {
        let xxe = br#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><svg xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential>&xxe;</openbadges:credential></svg>"#;
        assert!(svg_problem(unbake(xxe)).contains("internal subset"));
        assert!(svg_problem(bake(xxe, &cred())).contains("internal subset"));
        let stray = br#"<!ENTITY a "b"><svg/>"#;
        assert!(svg_problem(unbake(stray)).contains("never processes"));
        let undeclared = br#"<svg xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential>&lol9;</openbadges:credential></svg>"#;
        assert!(svg_problem(unbake(undeclared)).contains("&lol9;"));
        // A DOCTYPE naming the SVG 1.1 DTD (no internal subset) is harmless: never fetched.
        let plain = br#"<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg xmlns="http://www.w3.org/2000/svg"/>"#;
        let baked = bake(plain, b"{}").unwrap();
        assert_eq!(unbake(&baked).unwrap().text, b"{}");
    }

    #[test]
    fn svg_malformed_inputs() {
        let two = br#"<svg xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential><![CDATA[{}]]></openbadges:credential><openbadges:credential verify="a.b.c"/></svg>"#;
        assert!(matches!(
            unbake(two),
            Err(BakeError::Several { count: 2, .. })
        ));
        assert!(matches!(
            bake(two, b"{}"),
            Err(BakeError::Several { count: 2, .. })
        ));
        let both = br#"<svg xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential verify="a.b.c">{}</openbadges:credential></svg>"#;
        assert!(svg_problem(unbake(both)).contains("both"));
        let nested = br#"<svg xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential><x/></openbadges:credential></svg>"#;
        assert!(svg_problem(unbake(nested)).contains("inside"));
        assert!(svg_problem(unbake(b"<html/>")).contains("not <svg>"));
        assert!(svg_problem(unbake(b"<svg><g></svg>")).contains("does not match"));
        assert!(svg_problem(unbake(b"<svg a=b/>")).contains("quoted"));
        let dup = br#"<svg><openbadges:credential verify="a.b.c" verify="d.e.f"/></svg>"#;
        assert!(svg_problem(unbake(dup)).contains("repeated"));
        assert!(svg_problem(unbake(b"<svg>\xff</svg>")).contains("UTF-8"));
        assert!(svg_problem(unbake(b"\xFF\xFE<\0s\0")).contains("UTF-16"));
        let latin = b"<?xml version='1.0' encoding='ISO-8859-1'?><svg/>";
        assert!(svg_problem(unbake(latin)).contains("ISO-8859-1"));
        assert!(svg_problem(unbake(b"<svg/><svg/>")).contains("after the end"));
        assert!(svg_problem(unbake(b"<svg/>text")).contains("outside"));
        assert!(matches!(unbake(b"<svg/>"), Err(BakeError::NotBaked { .. })));
        let empty = br#"<svg xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential>  </openbadges:credential></svg>"#;
        assert!(svg_problem(unbake(empty)).contains("empty"));
        let wrong_ns = br#"<svg xmlns:openbadges="urn:other"/>"#;
        assert!(svg_problem(bake(wrong_ns, b"{}")).contains("urn:other"));
        let deep = format!("<svg>{}", "<g>".repeat(MAX_SVG_DEPTH + 1));
        assert!(svg_problem(unbake(deep.as_bytes())).contains("deeper"));
    }

    #[test]
    fn svg_truncated_at_every_length_is_an_error() {
        let baked = bake(&svg(), &cred()).unwrap();
        for len in 0..baked.len() {
            // The final newline after </svg> is optional.
            let r = unbake(&baked[..len]);
            if len < baked.len() - 1 {
                assert!(r.is_err(), "prefix of {len} bytes accepted");
            }
        }
    }

    #[test]
    fn svg_reads_open_badges_2() {
        let hosted = br#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org"><openbadges:assertion verify="https://example.org/assertions/123"><![CDATA[{"id":"https://example.org/assertions/123","type":"Assertion"}]]></openbadges:assertion></svg>"#;
        let u = unbake(hosted).unwrap();
        assert_eq!(u.spec, BakedSpec::OpenBadges2);
        assert_eq!(u.kind(), PayloadKind::Json);
        let signed = br#"<svg xmlns:openbadges="http://openbadges.org"><openbadges:assertion verify="aaa.bbb.ccc"/></svg>"#;
        let u = unbake(signed).unwrap();
        assert_eq!(u.text, b"aaa.bbb.ccc");
        assert_eq!(u.kind(), PayloadKind::CompactJws);
        assert!(matches!(
            bake(signed, b"{}"),
            Err(BakeError::HasOpenBadges2 { .. })
        ));
    }

    #[test]
    fn credentials_that_cannot_be_baked() {
        for bad in [
            &b""[..],
            b"not json",
            b"{\"a\":1,\"a\":2}",
            b"[1]",
            b"{\"a\":\"\xff\"}",
            b" a.b.c ",
        ] {
            assert!(
                matches!(bake(&png(), bad), Err(BakeError::BadCredential(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let nonchar = "{\"a\":\"\u{FFFF}\"}".as_bytes();
        assert!(matches!(
            bake(&svg(), nonchar),
            Err(BakeError::BadCredential(_))
        ));
        assert_eq!(
            unbake(&bake(&png(), nonchar).unwrap()).unwrap().text,
            nonchar
        );
        assert!(matches!(
            bake(b"GIF89a", b"{}"),
            Err(BakeError::UnknownFormat)
        ));
    }

    #[test]
    fn generated_images_are_valid() {
        let name = "Intro to <script>alert(1)</script> & \"Data\" with a very long title indeed";
        let s = String::from_utf8(generated_badge(name, ImageFormat::Svg).unwrap()).unwrap();
        assert!(!s.contains("<script>"));
        assert!(s.contains("&lt;script&gt;"));
        assert!(scan_svg(s.as_bytes()).is_ok());
        assert!(s.matches("<text").count() <= 3);
        assert!(s.contains('…'));
        let p = generated_badge(name, ImageFormat::Png).unwrap();
        let chunks = png_chunks(&p).unwrap();
        let kinds: Vec<&[u8; 4]> = chunks.iter().map(|c| &c.kind).collect();
        assert_eq!(kinds, [b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"]);
        assert_eq!(&chunks[0].data[..8], &[0, 0, 1, 0, 0, 0, 1, 0]);
        // A zlib stream (the decoder checks the header and the Adler-32) of 256 rows, each a
        // filter byte (none) and 64 bytes of 2-bit pixels.
        let z = chunks[3].data;
        assert_eq!(((u16::from(z[0]) << 8) | u16::from(z[1])) % 31, 0);
        let mut inflate = flate2::read::ZlibDecoder::new(z);
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut inflate, &mut raw).unwrap();
        assert_eq!(
            inflate.total_in(),
            z.len() as u64,
            "data after the zlib stream"
        );
        assert_eq!(raw.len(), 256 * 65);
        assert!(raw.chunks(65).all(|row| row[0] == 0));
        // Compressed: the whole image is a few kilobytes (stored blocks took 16.7 KB).
        assert!(p.len() < 4096, "{} bytes", p.len());
        // Same name, same image; the corner pixel is transparent.
        assert_eq!(p, generated_badge(name, ImageFormat::Png).unwrap());
        assert_eq!(raw[1] >> 6, 0);
        // Both bake and unbake.
        for img in [p, s.into_bytes()] {
            assert_eq!(unbake(&bake(&img, &cred()).unwrap()).unwrap().text, cred());
        }
        assert_eq!(wrap(""), Vec::<String>::new());
        assert_eq!(wrap("Digital Fluency 1"), ["Digital Fluency", "1"]);
    }

    proptest! {
        #[test]
        fn unbake_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = unbake(&bytes);
            let _ = bake(&bytes, b"{}");
            let with_png = [PNG_SIGNATURE, &bytes].concat();
            let _ = unbake(&with_png);
            let with_svg = [b"<svg>".as_slice(), &bytes].concat();
            let _ = unbake(&with_svg);
        }

        #[test]
        fn unbake_never_panics_on_damaged_baked_images(
            svg_image in any::<bool>(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let img = if svg_image { svg() } else { png() };
            let mut baked = bake(&img, &cred()).unwrap();
            for (i, b) in edits {
                let at = i.index(baked.len());
                baked[at] = b;
            }
            let _ = unbake(&baked);
            let _ = unbake(&baked[..cut.index(baked.len())]);
            let _ = bake(&baked, &cred());
        }

        #[test]
        fn bake_unbake_round_trips(s in "\\PC*", svg_image in any::<bool>(), trailing in "[ \n\r\t]{0,3}") {
            let mut c = serde_json::to_vec(&serde_json::json!({ "name": s, "x": "]]>" })).unwrap();
            c.extend_from_slice(trailing.as_bytes());
            let img = if svg_image { svg() } else { png() };
            match bake(&img, &c) {
                Ok(baked) => prop_assert_eq!(unbake(&baked).unwrap().text, c),
                Err(BakeError::BadCredential(_)) if svg_image => {}
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
    }
}
