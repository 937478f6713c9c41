//! Server-side HTML for the pages people look at: a credential, an institution's catalogue
//! and the extension vocabulary. Pure functions from JSON (and a verification report) to a
//! complete HTML document, written with [`maud`]'s `html!` templates: no JavaScript, no
//! external assets (one inline style sheet), links only to `http(s)` URLs. Credential content
//! is untrusted: every interpolated value goes through maud's escaping (`PreEscaped` wraps only
//! the fixed style sheet and the doctype written here), and the finished document has control
//! characters replaced (see [`document`]).

use maud::{html, Markup, PreEscaped, DOCTYPE};
use microcred_core::{EndorsementReport, EndorserTrust, Outcome, Report, Verdict};
use serde_json::Value;

use super::subject;

/// Percent-encodes a URL query component (RFC 3986 unreserved characters kept).
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A URL safe to put in `href`: `http:` or `https:` only (never `javascript:`, `data:`…).
fn safe_url(s: &str) -> Option<&str> {
    let t = s.trim();
    let lower = t.get(..8).unwrap_or(t).to_ascii_lowercase();
    ((lower.starts_with("https://") || lower.starts_with("http://"))
        && !t.chars().any(|c| c.is_whitespace() || c.is_control()))
    .then_some(t)
}

/// A link when `url` is safe, else just the text.
fn link(url: Option<&str>, text: &str) -> Markup {
    html! {
        @if let Some(u) = url.and_then(safe_url) {
            a href=(u) { (text) }
        } @else {
            (text)
        }
    }
}

/// A non-empty string member.
fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A member as text (strings, numbers and booleans).
fn text_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "yes" } else { "no" }.to_owned()),
        _ => None,
    }
}

/// A member that may be one object or an array of them.
fn items<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    match v.get(key) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other],
    }
}

/// The most specific `type` of an object, without a namespace prefix (`ext:ESCOSkill` → `ESCOSkill`).
fn type_name(v: &Value, key: &str) -> Option<String> {
    let raw = match v.get(key)? {
        Value::String(s) => s.as_str(),
        Value::Array(a) => a.last()?.as_str()?,
        _ => return None,
    };
    Some(raw.rsplit(':').next().unwrap_or(raw).to_owned()).filter(|s| !s.is_empty())
}

/// `BlendedLearning` → `Blended Learning`, `online` → `Online` (`MicroCredential` →
/// `Microcredential`).
fn humanize(s: &str) -> String {
    if s == "MicroCredential" {
        return "Microcredential".to_owned();
    }
    let mut out = String::with_capacity(s.len() + 4);
    let mut prev_lower = false;
    for (i, c) in s.chars().enumerate() {
        if c == '-' || c == '_' {
            out.push(' ');
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            out.push(' ');
        }
        if i == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    out
}

/// A BCP 47 language tag safe for `lang` (letters, digits, hyphens), else `en`.
fn lang_tag(s: Option<&str>) -> String {
    s.filter(|t| {
        !t.is_empty()
            && t.len() <= 35
            && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && t.as_bytes()[0].is_ascii_alphabetic()
    })
    .unwrap_or("en")
    .to_owned()
}

/// `PT15H` → `15 hours`; `P2DT4H30M` → `2 days, 4 hours, 30 minutes`; anything else as given.
pub(crate) fn duration_words(iso: &str) -> String {
    fn parse(iso: &str) -> Option<Vec<(u64, &'static str)>> {
        let rest = iso.strip_prefix('P')?;
        let (date, time) = match rest.split_once('T') {
            Some((d, t)) if !t.is_empty() => (d, t),
            Some(_) => return None,
            None => (rest, ""),
        };
        let mut parts = Vec::new();
        for (text, units) in [
            (
                date,
                &[('Y', "year"), ('M', "month"), ('W', "week"), ('D', "day")][..],
            ),
            (time, &[('H', "hour"), ('M', "minute"), ('S', "second")][..]),
        ] {
            let mut num = String::new();
            let mut next_unit = 0;
            for c in text.chars() {
                if c.is_ascii_digit() {
                    num.push(c);
                    continue;
                }
                let pos = units[next_unit..].iter().position(|(u, _)| *u == c)?;
                let n: u64 = num.parse().ok()?;
                parts.push((n, units[next_unit + pos].1));
                next_unit += pos + 1;
                num.clear();
            }
            if !num.is_empty() {
                return None;
            }
        }
        (!parts.is_empty()).then_some(parts)
    }
    match parse(iso.trim()) {
        Some(parts) => parts
            .iter()
            .map(|(n, unit)| format!("{n} {unit}{}", if *n == 1 { "" } else { "s" }))
            .collect::<Vec<_>>()
            .join(", "),
        None => iso.to_owned(),
    }
}

/// `2026-12-01T07:23:04Z` → `1 December 2026` (as written when it does not parse).
fn date_words(s: &str) -> String {
    match microcred_core::parse_datetime(s) {
        Some(t) => format!("{} {} {}", t.day(), t.month(), t.year()),
        None => s.to_owned(),
    }
}

/// A `<time>` element for a date-time.
fn time_el(s: &str) -> Markup {
    html! { time datetime=(s) { (date_words(s)) } }
}

/// `", Canada"` after an issuer's name, when the profile has a country.
fn country_suffix(country: Option<&str>) -> Markup {
    html! {
        @if let Some(c) = country { ", " (c) }
    }
}

const STYLE: &str = r#"
:root{--fg:#1b1b1f;--muted:#4a4f57;--bg:#fff;--panel:#f4f6f8;--line:#d5dae0;--accent:#0a4fa8;
--ok:#14532d;--ok-bg:#e6f4ea;--bad:#8b1a1a;--bad-bg:#fdecec;--warn:#6b4200;--warn-bg:#fff4d6}
*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--fg);background:var(--bg);line-height:1.5}
body{margin:0}
a{color:var(--accent)}
a:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}
.wrap{max-width:62rem;margin:0 auto;padding:0 1.25rem}
header.site{background:#0b2545;color:#fff;padding:1.75rem 0 1.5rem}
header.site a{color:#fff}
header.site .issuer{margin:0;font-size:1rem;opacity:.95}
header.site h1{margin:.25rem 0 .5rem;font-size:clamp(1.6rem,4vw,2.3rem);line-height:1.2}
header.site .meta{margin:0;display:flex;flex-wrap:wrap;gap:.4rem 1.25rem;font-size:.95rem}
main{padding:2rem 0}
section{margin:0 0 1.75rem}
h2{font-size:1.3rem;margin:0 0 .6rem;padding-bottom:.3rem;border-bottom:2px solid var(--line)}
h3{font-size:1.05rem;margin:1rem 0 .4rem}
p{margin:.4rem 0}
.lead{font-size:1.1rem}
.narrative{white-space:pre-line;background:var(--panel);padding:.75rem 1rem;border-radius:6px}
.status{border-radius:8px;padding:1rem 1.25rem;border:2px solid}
.status.valid{background:var(--ok-bg);color:var(--ok);border-color:var(--ok)}
.status.invalid{background:var(--bad-bg);color:var(--bad);border-color:var(--bad)}
.status.indeterminate{background:var(--warn-bg);color:var(--warn);border-color:var(--warn)}
.status .verdict{font-size:1.25rem;font-weight:700;margin:0}
.table-wrap{overflow-x:auto}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
caption{text-align:left;font-weight:600;padding:.3rem 0}
.desc{font-weight:400;color:var(--muted)}
table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{text-align:left;vertical-align:top;padding:.45rem .6rem;border-bottom:1px solid var(--line);overflow-wrap:break-word}
.wrap-any{overflow-wrap:anywhere}
.nowrap{white-space:nowrap}
thead th{background:var(--panel)}
tbody th{font-weight:600}
.o-pass{color:var(--ok);font-weight:600}.o-fail{color:var(--bad);font-weight:600}
.o-unknown,.o-not_checked{color:var(--warn);font-weight:600}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1.25rem;margin:.4rem 0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin:.5rem 0}
.button{display:inline-block;padding:.55rem 1rem;border-radius:6px;border:2px solid var(--accent);text-decoration:none;font-weight:600}
.button.primary{background:var(--accent);color:#fff}
.badge-img{float:right;margin:0 0 1rem 1rem;width:8rem;height:auto}
.qr{display:block;width:16rem;max-width:100%;height:auto;background:#fff;padding:.5rem;border:1px solid #ccc}
code{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.9em;word-break:break-all}
footer{border-top:1px solid var(--line);color:var(--muted);font-size:.9rem;padding:1rem 0 2rem}
@media (max-width:40rem){table,tbody,tr,th,td{display:block;width:100%}caption:not(.visually-hidden){display:block}thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
tr{border-bottom:2px solid var(--line);padding:.4rem 0}th,td{border:0;padding:.15rem .2rem}
td[data-label]::before{content:attr(data-label) ": ";font-weight:600;color:var(--muted)}
dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.4rem}.badge-img{float:none;display:block;margin:0 0 1rem}}
"#;

/// The common document around a page's body.
fn document(lang: &str, title: &str, head_extra: Markup, body: Markup) -> String {
    let page = html! {
        (DOCTYPE) "\n"
        html lang=(lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                (head_extra)
                // Fixed text of this file, not data: the one place markup is not escaped.
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    };
    without_controls(page.into_string())
}

/// Control characters other than whitespace are not allowed in HTML, and maud escapes only
/// markup characters: they are replaced in the finished document, where only data can carry
/// them (the templates and the style sheet have none).
fn without_controls(page: String) -> String {
    let bad = |c: char| c.is_control() && !matches!(c, '\n' | '\t' | '\r');
    if !page.chars().any(bad) {
        return page;
    }
    page.chars()
        .map(|c| if bad(c) { '\u{FFFD}' } else { c })
        .collect()
}

/// An achievement a pathway names: its id, and its name and page when the service has it.
#[derive(Debug, Clone)]
pub(crate) struct AchievementRef {
    /// The id the rule names.
    pub(crate) id: String,
    /// The achievement's name, when the service publishes it.
    pub(crate) name: Option<String>,
    /// Its public definition URL (linked only when `http(s)`).
    pub(crate) url: Option<String>,
}

/// A pathway rule (`stackingRequirement`) with its achievements resolved.
#[derive(Debug)]
pub(crate) struct PathwayRule {
    /// The achievements that count, in the rule's order.
    pub(crate) required: Vec<AchievementRef>,
    /// How many of them must be held.
    pub(crate) minimum_required: usize,
    /// The least sum of credits of the counted components.
    pub(crate) minimum_credits: Option<f64>,
    /// The time within which the components must have been awarded (ISO 8601 duration).
    pub(crate) completion_window: Option<String>,
}

/// A component a stacked credential counts (from its `evidence`).
#[derive(Debug)]
pub(crate) struct ComponentRef {
    /// The component's name, else its id.
    pub(crate) label: String,
    /// The component credential's id.
    pub(crate) id: String,
    /// Its page at this service, when it is one of the service's credentials.
    pub(crate) page: Option<String>,
}

/// "Stacked from": what a stacked credential is made of.
#[derive(Debug)]
pub(crate) struct StackedFrom {
    /// The rule of the credential's achievement.
    pub(crate) rule: PathwayRule,
    /// The components the credential counts.
    pub(crate) components: Vec<ComponentRef>,
}

/// A pathway of the service that counts the credential's achievement.
#[derive(Debug)]
pub(crate) struct StacksInto {
    /// The pathway's achievement.
    pub(crate) pathway: AchievementRef,
    /// Its rule.
    pub(crate) rule: PathwayRule,
    /// The required achievements the holder has no credential of at this service (`None` when
    /// the credential was stored without a learner key, so the holder's others are unknown).
    pub(crate) missing: Option<Vec<AchievementRef>>,
}

/// What a credential page needs besides the credential itself.
#[derive(Debug)]
pub(crate) struct CredentialPage<'a> {
    /// The credential's public URL (`{base}/credentials/{id}`).
    pub(crate) url: &'a str,
    /// The stored credential, parsed.
    pub(crate) credential: &'a Value,
    /// The live verification report.
    pub(crate) report: &'a Report,
    /// When the report was made (RFC 3339).
    pub(crate) checked_at: &'a str,
    /// The baked PNG, if the service serves one.
    pub(crate) badge_png: Option<&'a str>,
    /// The pathway record (CLR 2.0) of a stacked credential, if the service serves one.
    pub(crate) pathway_record: Option<&'a str>,
    /// What a stacked credential is made of.
    pub(crate) stacked_from: Option<StackedFrom>,
    /// The pathways of the service the credential counts towards.
    pub(crate) stacks_into: Vec<StacksInto>,
    /// The employer's verifier page (`{base}/verify/`), when this service hosts it.
    pub(crate) verifier: Option<&'a str>,
    /// An open offer of this credential to the learner's wallet (`?offer=ID`).
    pub(crate) wallet: Option<WalletOffer>,
}

/// An offer shown on a credential page: its QR code and links.
#[derive(Debug)]
pub(crate) struct WalletOffer {
    /// The `openid-credential-offer://` link.
    pub(crate) link: String,
    /// The QR code image URL.
    pub(crate) qr: String,
    /// The offer's page.
    pub(crate) page: String,
    /// A transaction code is asked for.
    pub(crate) tx_code: bool,
    /// When it stops working.
    pub(crate) expires_at: String,
}

/// "Issued to …" without revealing salts or hashes.
fn recipient_words(subject: &Value) -> Markup {
    if let Some(id) = str_of(subject, "id") {
        return html! { "Issued to " code { (id) } };
    }
    let ids = items(subject, "identifier");
    if let Some(first) = ids.first() {
        let kind = match str_of(first, "identityType") {
            Some("emailAddress") | None => "e-mail".to_owned(),
            Some(other) => humanize(other).to_lowercase(),
        };
        return if first.get("hashed").and_then(Value::as_bool) == Some(true) {
            html! { "Issued to a hashed " (kind) " identity" }
        } else {
            html! { "Issued to a learner identified by " (kind) " (not shown)" }
        };
    }
    html! { "Issued to a learner (no identity stated)" }
}

fn outcome_words(o: Outcome) -> (&'static str, &'static str) {
    match o {
        Outcome::Pass => ("✓ Passed", "o-pass"),
        Outcome::Fail => ("✗ Failed", "o-fail"),
        Outcome::Unknown => ("? Unknown", "o-unknown"),
        _ => ("– Not checked", "o-not_checked"),
    }
}

fn verification_section(report: &Report, checked_at: &str, verifier: Option<&str>) -> Markup {
    let (class, verdict, explain) = match report.verdict {
        Verdict::Valid => (
            "valid",
            "✓ Verified",
            "The issuer's signature is genuine, the content is unchanged, and the credential is currently valid.",
        ),
        Verdict::Invalid => (
            "invalid",
            "✗ Not valid",
            "At least one check failed: do not rely on this credential.",
        ),
        _ => (
            "indeterminate",
            "? Could not be fully verified",
            "A required check could not be carried out; see the details below.",
        ),
    };
    html! {
        section aria-labelledby="verification" {
            h2 #verification { "Verification" }
            div class=(format!("status {class}")) role="status" {
                p.verdict { (verdict) }
                p { (explain) }
                p { "Checked live by the issuing service on " (time_el(checked_at)) " (signature, issuer key, status and expiry)." }
            }
            @if let Some(v) = verifier {
                p {
                    "Prefer not to take the issuer's word for it? Download the credential or its badge below and check it with the "
                    a href=(v) { "offline verifier" }
                    ": it runs in your browser, and the file is not sent anywhere."
                }
            }
            div.table-wrap {
                table {
                    caption.visually-hidden { "Verification checks" }
                    thead { tr { th scope="col" { "Check" } th scope="col" { "Result" } th scope="col" { "Details" } } }
                    tbody {
                        @for c in &report.checks {
                            @let (words, oclass) = outcome_words(c.outcome);
                            @let label = match c.proof {
                                Some(n) => format!("{} (proof {n})", humanize(c.check.label())),
                                None => humanize(c.check.label()),
                            };
                            tr {
                                th scope="row" { (label) }
                                td class=(oclass) data-label="Result" { (words) }
                                td.wrap-any data-label="Details" { (c.reason) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn competencies_section(achievement: &Value) -> Markup {
    let aligns = items(achievement, "alignment");
    if aligns.is_empty() {
        return html! {};
    }
    html! {
        section aria-labelledby="competencies" {
            h2 #competencies { "Competencies and frameworks" }
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { "Competency" } th scope="col" { "Framework" }
                        th scope="col" { "Code" } th scope="col" { "Kind" }
                    } }
                    tbody {
                        @for a in aligns {
                            tr {
                                th scope="row" { (link(str_of(a, "targetUrl"), str_of(a, "targetName").unwrap_or("(unnamed)"))) }
                                td data-label="Framework" { (str_of(a, "targetFramework").unwrap_or("—")) }
                                td data-label="Code" {
                                    @if let Some(c) = str_of(a, "targetCode") { code { (c) } } @else { "—" }
                                }
                                td data-label="Kind" { (type_name(a, "targetType").map(|t| humanize(&t)).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The name of a rubric level of a result description.
fn level_name(rd: &Value, level_id: &str) -> String {
    items(rd, "rubricCriterionLevel")
        .into_iter()
        .find(|l| str_of(l, "id") == Some(level_id))
        .and_then(|l| str_of(l, "name"))
        .unwrap_or(level_id)
        .to_owned()
}

/// The required value and the learner's result of one result description, in words.
fn required_and_result(rd: &Value, results: &[&Value]) -> (String, String) {
    let percent = |v: String| {
        if str_of(rd, "resultType") == Some("Percent") {
            format!("{v} %")
        } else {
            v
        }
    };
    let id = str_of(rd, "id");
    let required = str_of(rd, "requiredValue")
        .map(str::to_owned)
        .or_else(|| str_of(rd, "requiredLevel").map(|l| level_name(rd, l)))
        .map(percent)
        .unwrap_or_else(|| "—".into());
    let result = results
        .iter()
        .find(|r| id.is_some() && str_of(r, "resultDescription") == id)
        .map(|r| {
            str_of(r, "value")
                .map(|v| percent(v.to_owned()))
                .or_else(|| str_of(r, "achievedLevel").map(|l| level_name(rd, l)))
                .or_else(|| str_of(r, "status").map(humanize))
                .unwrap_or_else(|| "—".into())
        })
        .unwrap_or_else(|| "not stated".into());
    (required, result)
}

fn assessment_section(achievement: &Value, subject: &Value) -> Markup {
    let descriptions = items(achievement, "resultDescription");
    let results = items(subject, "result");
    if descriptions.is_empty() && results.is_empty() {
        return html! {};
    }
    const DETAILS: [(&str, &str); 3] = [
        ("description", "About"),
        ("assessmentOutput", "Output"),
        ("evaluationMethod", "Evaluation"),
    ];
    html! {
        section aria-labelledby="assessment" {
            h2 #assessment { "Assessment and result" }
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { "Assessment" } th scope="col" { "Result type" }
                        th scope="col" { "Assessment type" } th scope="col" { "Required" }
                        th scope="col" { "Learner's result" }
                    } }
                    tbody {
                        @for rd in &descriptions {
                            @let (required, result) = required_and_result(rd, &results);
                            tr {
                                th scope="row" { (str_of(rd, "name").unwrap_or("(unnamed)")) }
                                td data-label="Result type" { (str_of(rd, "resultType").map(humanize).unwrap_or_default()) }
                                td data-label="Assessment type" { (str_of(rd, "assessmentType").map(humanize).unwrap_or_else(|| "—".into())) }
                                td data-label="Required" { (required) }
                                td data-label="Learner's result" { strong { (result) } }
                            }
                        }
                    }
                }
            }
            @for rd in &descriptions {
                @if DETAILS.iter().any(|(key, _)| str_of(rd, key).is_some()) {
                    h3 { (str_of(rd, "name").unwrap_or("(unnamed)")) }
                    dl.facts {
                        @for (key, label) in DETAILS {
                            @if let Some(t) = str_of(rd, key) { dt { (label) } dd { (t) } }
                        }
                    }
                }
            }
        }
    }
}

/// Workload, mode, quality assurance and stacking as the items of a definition list (empty
/// when the achievement states none of them).
fn workload_facts(a: &Value) -> Markup {
    let stackability = a.get("stackability");
    html! {
        @if let Some(v) = str_of(a, "volumeOfLearning") {
            dt { "Workload" } dd { (duration_words(v)) }
        }
        @if let Some(c) = text_of(a, "creditsAvailable") {
            dt { "Credits" }
            dd {
                (c)
                @if let Some(s) = str_of(a, "creditSystem") { " (" (link(Some(s), "credit system")) ")" }
            }
        }
        @if let Some(m) = str_of(a, "learningMode") {
            dt { "Learning mode" } dd { (humanize(m)) }
        }
        @if let Some(s) = str_of(a, "assessmentSupervision") {
            dt { "Assessment supervision" } dd { (humanize(s)) }
        }
        @if let Some(l) = text_of(a, "qualificationLevel").or_else(|| text_of(a, "level")) {
            dt { "Level" } dd { (l) }
        }
        @if let Some(f) = str_of(a, "fieldOfStudy") {
            dt { "Field of study" } dd { (f) }
        }
        @if let Some(e) = str_of(a, "entryRequirement") {
            dt { "Entry requirements" } dd { (e) }
        }
        @for qa in items(a, "qualityAssurance") {
            dt { "Quality assurance" }
            dd {
                (link(str_of(qa, "url"), str_of(qa, "name").unwrap_or("Quality assurance")))
                @if let Some(k) = str_of(qa, "qualityAssuranceType") { " (" (humanize(k)) ")" }
                @if let Some(d) = str_of(qa, "description") { br; (d) }
            }
        }
        @if let Some(st) = stackability {
            @let into: Vec<&str> = items(st, "stacksInto").into_iter().filter_map(Value::as_str).collect();
            dt { "Stackability" }
            dd {
                @if let Some(o) = str_of(st, "integrationOption") { (humanize(o)) } @else { "Stackable" }
                @if !into.is_empty() {
                    ": stacks into "
                    @for (i, u) in into.iter().enumerate() {
                        @if i > 0 { ", " }
                        (link(Some(u), u))
                    }
                }
            }
        }
    }
}

fn evidence_section(vc: &Value, subject: &Value) -> Markup {
    let mut all = items(vc, "evidence");
    all.extend(items(subject, "evidence"));
    if all.is_empty() {
        return html! {};
    }
    html! {
        section aria-labelledby="evidence" {
            h2 #evidence { "Evidence" }
            ul {
                @for e in all {
                    li {
                        (link(str_of(e, "id"), str_of(e, "name").or_else(|| str_of(e, "id")).unwrap_or("Evidence")))
                        @if let Some(n) = str_of(e, "narrative").or_else(|| str_of(e, "description")) {
                            " — " (n)
                        }
                    }
                }
            }
        }
    }
}

/// An achievement a pathway names: its name (linked to its page) and, when the name is
/// known, its id in small print.
fn achievement_ref(a: &AchievementRef) -> Markup {
    html! {
        @match &a.name {
            Some(name) => { (link(a.url.as_deref(), name)) }
            None => { code { (link(a.url.as_deref(), &a.id)) } }
        }
    }
}

/// A comma-separated list of achievements.
fn achievement_list(list: &[AchievementRef]) -> Markup {
    html! {
        @for (i, a) in list.iter().enumerate() {
            @if i > 0 { ", " }
            (achievement_ref(a))
        }
    }
}

/// "all 3 of: A, B, C, within 3 years, at least 6 credits".
fn rule_words(rule: &PathwayRule) -> Markup {
    let n = rule.required.len();
    html! {
        @if rule.minimum_required >= n {
            @if n == 1 { "requires " } @else { "requires all " (n) " of: " }
        } @else {
            "requires " (rule.minimum_required) " of the " (n) ": "
        }
        (achievement_list(&rule.required))
        @if let Some(w) = &rule.completion_window {
            ", awarded within " (duration_words(w))
        }
        @if let Some(c) = rule.minimum_credits {
            ", at least " (c) " credits"
        }
    }
}

fn stacked_from_section(s: &StackedFrom, pathway_record: Option<&str>) -> Markup {
    html! {
        section aria-labelledby="stacked-from" {
            h2 #stacked-from { "Stacked from" }
            p { "This credential stacks smaller ones: its pathway " (rule_words(&s.rule)) "." }
            @if !s.components.is_empty() {
                h3 { "Components counted" }
                ul {
                    @for c in &s.components {
                        li {
                            (link(c.page.as_deref(), &c.label))
                            @if c.label != c.id && c.page.as_deref() != Some(c.id.as_str()) { " " span.desc { "(" code { (c.id) } ")" } }
                        }
                    }
                }
            }
            @if let Some(clr) = pathway_record {
                p { (link(Some(clr), "Pathway record (CLR 2.0): this credential with its components")) }
            }
        }
    }
}

fn stacks_into_section(list: &[StacksInto]) -> Markup {
    if list.is_empty() {
        return html! {};
    }
    html! {
        section aria-labelledby="stacks-into" {
            h2 #stacks-into { "Stacks into" }
            p { "This credential counts towards " @if list.len() == 1 { "a larger credential" } @else { "larger credentials" } " of the issuer:" }
            ul {
                @for s in list {
                    li {
                        strong { (achievement_ref(&s.pathway)) } ", which " (rule_words(&s.rule)) "."
                        @if let Some(missing) = &s.missing {
                            br;
                            @if missing.is_empty() {
                                "The holder of this credential has every achievement it requires."
                            } @else {
                                "Still missing for the holder of this credential: " (achievement_list(missing)) "."
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An endorsement's standing in words, with the class of its colour.
fn endorsement_words(e: &EndorsementReport) -> (&'static str, &'static str) {
    match (e.trust, e.verdict) {
        (EndorserTrust::Trusted, _) => ("✓ Valid, from a trusted endorser", "o-pass"),
        (EndorserTrust::Unknown, Verdict::Valid) => (
            "✓ Valid (the endorser is not on a list of trusted endorsers)",
            "o-pass",
        ),
        (EndorserTrust::Unknown, _) => ("? Could not be fully checked", "o-unknown"),
        (EndorserTrust::Invalid, _) => ("✗ Invalid", "o-fail"),
        _ => ("– Not checked", "o-not_checked"),
    }
}

fn endorsements_section(list: &[EndorsementReport]) -> Markup {
    if list.is_empty() {
        return html! {};
    }
    html! {
        section aria-labelledby="endorsements" {
            h2 #endorsements { "Endorsements" }
            div.table-wrap {
                table {
                    caption.visually-hidden { "Endorsements" }
                    thead { tr {
                        th scope="col" { "Endorser" } th scope="col" { "Endorses" }
                        th scope="col" { "Comment" } th scope="col" { "Standing" }
                    } }
                    tbody {
                        @for e in list {
                            @let (words, class) = endorsement_words(e);
                            tr {
                                th scope="row" {
                                    @if let Some(n) = &e.endorser_name { (n) }
                                    @else if let Some(id) = &e.endorser { code { (id) } }
                                    @else { "(unnamed endorser)" }
                                    @if let (Some(_), Some(id)) = (&e.endorser_name, &e.endorser) {
                                        br; span.desc { code { (id) } }
                                    }
                                }
                                td data-label="Endorses" { (capitalize(e.endorses.label())) }
                                td data-label="Comment" { (e.comment.as_deref().unwrap_or("—")) }
                                td data-label="Standing" {
                                    span class=(class) { (words) }
                                    br; span.wrap-any { (e.reason) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `the achievement` → `The achievement`.
fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The LinkedIn "Add to profile" URL for a certification.
pub(crate) fn linkedin_url(
    name: &str,
    org: &str,
    issued: Option<&str>,
    expires: Option<&str>,
    url: &str,
    cert_id: &str,
) -> String {
    let mut q = format!(
        "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name={}&organizationName={}",
        url_encode(name),
        url_encode(org)
    );
    if let Some(t) = issued.and_then(microcred_core::parse_datetime) {
        q.push_str(&format!(
            "&issueYear={}&issueMonth={}",
            t.year(),
            u8::from(t.month())
        ));
    }
    if let Some(t) = expires.and_then(microcred_core::parse_datetime) {
        q.push_str(&format!(
            "&expirationYear={}&expirationMonth={}",
            t.year(),
            u8::from(t.month())
        ));
    }
    q.push_str(&format!(
        "&certUrl={}&certId={}",
        url_encode(url),
        url_encode(cert_id)
    ));
    q
}

/// The full HTML page of a credential.
pub(crate) fn credential_page(p: &CredentialPage<'_>) -> String {
    let vc = p.credential;
    let subj = subject(vc);
    let ach = subj.get("achievement").unwrap_or(&Value::Null);
    let issuer = vc.get("issuer").unwrap_or(&Value::Null);
    let name = str_of(ach, "name")
        .or_else(|| str_of(vc, "name"))
        .unwrap_or("Credential");
    let issuer_name = str_of(issuer, "name")
        .or_else(|| issuer.as_str())
        .unwrap_or("Unknown issuer");
    let country = issuer
        .get("address")
        .and_then(|a| str_of(a, "addressCountry").or_else(|| str_of(a, "addressCountryCode")));
    let issued = str_of(vc, "validFrom")
        .or_else(|| str_of(vc, "issuanceDate"))
        .or_else(|| str_of(vc, "awardedDate"));
    let until = str_of(vc, "validUntil").or_else(|| str_of(vc, "expirationDate"));
    let description = str_of(ach, "description")
        .or_else(|| str_of(vc, "description"))
        .unwrap_or("");
    let kind = type_name(ach, "achievementType")
        .map(|t| humanize(&t))
        .unwrap_or_else(|| "Achievement".into());
    let cert_id = p.url.rsplit('/').next().unwrap_or(p.url);
    let json_url = format!("{}?format=json", p.url);

    let image = ach
        .get("image")
        .and_then(|i| i.as_str().or_else(|| str_of(i, "id")))
        .and_then(safe_url)
        .or(p.badge_png);
    let og_desc: String = {
        let base = format!("{kind} issued by {issuer_name}. {description}");
        let mut s: String = base.chars().take(280).collect();
        if base.chars().count() > 280 {
            s.push('…');
        }
        s
    };
    let head = html! {
        @for (prop, val) in [
            ("og:type", "website"),
            ("og:title", name),
            ("og:description", og_desc.as_str()),
            ("og:url", p.url),
            ("og:site_name", issuer_name),
        ] {
            meta property=(prop) content=(val);
        }
        @if let Some(img) = image {
            meta property="og:image" content=(img);
        }
        meta name="description" content=(og_desc);
        link rel="canonical" href=(p.url);
        link rel="alternate" type="application/vc+ld+json" href=(json_url);
    };

    let header = html! {
        header.site { div.wrap {
            p.issuer { (link(str_of(issuer, "url"), issuer_name)) (country_suffix(country)) }
            h1 { (name) }
            p.meta {
                span { (kind) }
                @if let Some(c) = str_of(ach, "humanCode") { span { "Code " (c) } }
                @if let Some(i) = issued { span { "Issued " (time_el(i)) } }
                span {
                    @if let Some(u) = until { "Valid until " (time_el(u)) } @else { "No expiry date" }
                }
            }
        } }
    };

    let facts = workload_facts(ach);
    let linkedin = linkedin_url(name, issuer_name, issued, until, p.url, cert_id);
    let main = html! {
        (verification_section(p.report, p.checked_at, p.verifier))
        @if let Some(w) = &p.wallet {
            section aria-labelledby="wallet" {
                h2 #wallet { "Add it to your digital wallet" }
                img.qr src=(w.qr) alt="QR code of the offer of this credential to your wallet" width="256" height="256";
                p { "Scan this code with your wallet app (OpenID for Verifiable Credential Issuance), or on this device "
                    a href=(w.link) { "open the offer in your wallet" } ". "
                    "The credential is issued to your wallet's key; the offer works once, until " (time_el(&w.expires_at)) "." }
                @if w.tx_code { p { "Your wallet will ask for the code the institution sent you separately." } }
                p { a href=(w.page) { "More ways to add it (Learner Credential Wallet)" } }
            }
        }
        section aria-labelledby="about" {
            h2 #about { "About this credential" }
            // The badge image celebrates the achievement: shown only while the credential verifies.
            @if let Some(png) = p.badge_png.filter(|_| p.report.verdict == Verdict::Valid) {
                img.badge-img src=(png) alt={ "Badge image of " (name) } width="128" height="128";
            }
            @if !description.is_empty() {
                p.lead { (description) }
            }
            p { (recipient_words(subj)) "." }
            dl.facts {
                dt { "Issuer" } dd { (link(str_of(issuer, "url"), issuer_name)) (country_suffix(country)) }
                dt { "Type" } dd { (kind) }
                @if let Some(i) = issued { dt { "Issued on" } dd { (time_el(i)) } }
                dt { "Valid until" }
                dd { @if let Some(u) = until { (time_el(u)) } @else { "no expiry date" } }
                @if let Some(v) = str_of(ach, "version") { dt { "Version" } dd { (v) } }
            }
            @if let Some(c) = ach.get("criteria") {
                @if let Some(n) = str_of(c, "narrative") {
                    h3 { "Criteria" }
                    div.narrative { (n) }
                }
                @if let Some(u) = str_of(c, "id").and_then(safe_url) {
                    p { (link(Some(u), "Full criteria")) }
                }
            }
        }
        (competencies_section(ach))
        (assessment_section(ach, subj))
        @if !facts.0.is_empty() {
            section aria-labelledby="workload" {
                h2 #workload { "Workload, mode and quality" }
                dl.facts { (facts) }
            }
        }
        @if let Some(s) = &p.stacked_from {
            (stacked_from_section(s, p.pathway_record))
        }
        (stacks_into_section(&p.stacks_into))
        (endorsements_section(&p.report.endorsements))
        (evidence_section(vc, subj))
        section aria-labelledby="share" {
            h2 #share { "Share and download" }
            div.actions {
                a.button.primary href=(linkedin) { "Add to LinkedIn profile" }
                a.button href=(json_url) download={ "credential-" (cert_id) ".json" } type="application/vc+ld+json" {
                    "Download credential (JSON)"
                }
                @if let Some(png) = p.badge_png {
                    a.button href=(png) download={ "badge-" (cert_id) ".png" } type="image/png" {
                        "Download badge image (PNG with the credential baked in)"
                    }
                }
                @if let Some(clr) = p.pathway_record {
                    a.button href=(clr) download={ "pathway-record-" (cert_id) ".json" } type="application/vc+ld+json" {
                        "Download the pathway record (CLR 2.0: this credential with its components)"
                    }
                }
            }
            p {
                "The JSON file is the signed credential exactly as issued; any Open Badges 3.0 verifier can check it. Its address: "
                code { (p.url) }
            }
        }
    };

    let body = html! {
        (header)
        main.wrap { (main) }
        footer { div.wrap { p {
            "Open Badges 3.0 verifiable credential issued by " (issuer_name) ". Issuer identifier: "
            code { (str_of(issuer, "id").or_else(|| issuer.as_str()).unwrap_or("—")) }
        } } }
    };
    let title = format!("{name} — {issuer_name}");
    document(&lang_tag(str_of(ach, "inLanguage")), &title, head, body)
}

/// One catalogue entry: its public definition URL, definition and pathways.
#[derive(Debug)]
pub(crate) struct CatalogueEntry<'a> {
    pub(crate) url: String,
    pub(crate) definition: &'a Value,
    /// Its rule, when the achievement stacks from others.
    pub(crate) pathway: Option<PathwayRule>,
    /// The pathways of the catalogue that count it.
    pub(crate) stacks_into: Vec<AchievementRef>,
}

/// The full HTML page of an institution's catalogue.
pub(crate) fn catalogue_page(
    profile: &Value,
    page_url: &str,
    entries: &[CatalogueEntry<'_>],
) -> String {
    let name = str_of(profile, "name").unwrap_or("Institution");
    let country = profile
        .get("address")
        .and_then(|a| str_of(a, "addressCountry").or_else(|| str_of(a, "addressCountryCode")));
    let desc = format!("Microcredentials offered by {name}.");
    let title = format!("Microcredentials — {name}");
    let head = html! {
        @for (prop, val) in [
            ("og:type", "website"),
            ("og:title", title.as_str()),
            ("og:description", desc.as_str()),
            ("og:url", page_url),
        ] {
            meta property=(prop) content=(val);
        }
        meta name="description" content=(desc);
        link rel="alternate" type="application/json" href={ (page_url) "?format=json" };
    };
    let table = html! {
        @if entries.is_empty() {
            p { "No microcredentials are published yet." }
        } @else {
            div.table-wrap { table {
                caption { (entries.len()) " microcredential" @if entries.len() != 1 { "s" } " on offer" }
                thead { tr {
                    th scope="col" { "Microcredential" } th scope="col" { "Code" }
                    th scope="col" { "Type" } th scope="col" { "Workload" } th scope="col" { "Mode" }
                    th scope="col" { "Credits" } th scope="col" { "Competencies" }
                } }
                tbody {
                    @for e in entries {
                        @let d = e.definition;
                        tr {
                            th scope="row" {
                                (link(Some(&e.url), str_of(d, "name").unwrap_or("(unnamed)")))
                                @if let Some(t) = str_of(d, "description") {
                                    br;
                                    span.desc {
                                        (t.chars().take(160).collect::<String>())
                                        @if t.chars().count() > 160 { "…" }
                                    }
                                }
                                @if let Some(rule) = &e.pathway {
                                    br;
                                    span.desc { "Pathway: " (rule_words(rule)) "." }
                                }
                                @if !e.stacks_into.is_empty() {
                                    br;
                                    span.desc { "Stacks into: " (achievement_list(&e.stacks_into)) "." }
                                }
                            }
                            td.nowrap data-label="Code" { (str_of(d, "humanCode").unwrap_or("—")) }
                            td data-label="Type" { (type_name(d, "achievementType").map(|t| humanize(&t)).unwrap_or_else(|| "—".into())) }
                            td data-label="Workload" { (str_of(d, "volumeOfLearning").map(duration_words).unwrap_or_else(|| "—".into())) }
                            td data-label="Mode" { (str_of(d, "learningMode").map(humanize).unwrap_or_else(|| "—".into())) }
                            td data-label="Credits" { (text_of(d, "creditsAvailable").unwrap_or_else(|| "—".into())) }
                            td data-label="Competencies" { (items(d, "alignment").len()) }
                        }
                    }
                }
            } }
        }
    };
    let body = html! {
        header.site { div.wrap {
            p.issuer { (link(str_of(profile, "url"), name)) (country_suffix(country)) }
            h1 { "Microcredentials" }
        } }
        main.wrap {
            section aria-labelledby="catalogue" {
                h2 #catalogue { "Catalogue" }
                @if let Some(d) = str_of(profile, "description") { p.lead { (d) } }
                (table)
            }
        }
        footer { div.wrap { p {
            "Each name links to the microcredential's machine-readable definition (Open Badges 3.0 Achievement)."
        } } }
    };
    document("en", &title, head, body)
}

/// The microcredential extension vocabulary (`/ns/microcred/v1`): one row per term with an
/// anchor named after it, so every term IRI (`https://w3id.org/microcred/v1#term`) has a
/// human-readable definition here.
pub(crate) fn vocabulary_page(page_url: &str) -> String {
    use microcred_core::{TermKind, MICROCRED_VOCAB, MICROCRED_VOCABULARY};
    let json_url = format!("{page_url}?format=json");
    let body = html! {
        header.site { div.wrap { h1 { "Microcredential extension terms, version 1" } } }
        main.wrap {
            p.lead {
                "Open Badges 3.0 terms that describe a microcredential beyond what the Open Badges model carries: \
                 workload, form of participation, supervision of the assessment, quality assurance, prerequisites \
                 and stackability. Each term's IRI is " code { (MICROCRED_VOCAB) } " followed by the term."
            }
            p {
                "Credentials carry these terms with an embedded JSON-LD context (a map in the "
                code { "@context" } " of " code { "credentialSubject" }
                "), so any verifier can process them without fetching anything. The same context as a document: "
                (link(Some(&json_url), "JSON-LD")) "."
            }
            section aria-labelledby="terms" {
                h2 #terms { "Terms" }
                div.table-wrap { table {
                    caption { (MICROCRED_VOCABULARY.len()) " terms" }
                    thead { tr {
                        th scope="col" { "Term" } th scope="col" { "Used on" } th scope="col" { "Values" }
                        th scope="col" { "Meaning" } th scope="col" { "EU Annex I element" }
                    } }
                    tbody {
                        @for t in MICROCRED_VOCABULARY {
                            @let kind = match t.kind {
                                TermKind::Property => "property",
                                TermKind::Class => "class",
                                _ => "term",
                            };
                            tr id=(t.term) {
                                th scope="row" { code { (t.term) } br; span.desc { (kind) } }
                                td data-label="Used on" { (t.used_on) }
                                td data-label="Values" { (t.values) }
                                td data-label="Meaning" { (t.definition) }
                                td data-label="EU Annex I" { (t.annex_i.unwrap_or("—")) }
                            }
                        }
                    }
                } }
            }
        }
    };
    let head = html! {
        meta name="description" content="Definitions of the microcredential extension terms for Open Badges 3.0.";
        link rel="alternate" type="application/ld+json" href=(json_url);
    };
    document("en", "Microcredential extension terms", head, body)
}

/// What the offer page shows.
pub(crate) struct OfferPage<'a> {
    /// The institution's profile.
    pub(crate) institution: &'a Value,
    /// The names of the credentials offered.
    pub(crate) items: &'a [String],
    /// The `openid-credential-offer://` link.
    pub(crate) link: &'a str,
    /// The QR code image of the link.
    pub(crate) qr: &'a str,
    /// Learner Credential Wallet's deep link (VC API exchange), when the offer allows it.
    pub(crate) lcw: Option<String>,
    /// A transaction code is asked for.
    pub(crate) tx_code: bool,
    /// When the offer stops working.
    pub(crate) expires_at: &'a str,
    /// Still redeemable.
    pub(crate) open: bool,
}

/// The page of an offer: what is offered, the QR code to scan with a wallet, and the links.
pub(crate) fn offer_page(p: &OfferPage<'_>) -> String {
    let name = str_of(p.institution, "name").unwrap_or("Institution");
    let title = format!("Your credentials from {name}");
    let body = html! {
        header.site { div.wrap {
            p.issuer { (link(str_of(p.institution, "url"), name)) }
            h1 { "Add your credentials to your wallet" }
        } }
        main.wrap {
            section aria-labelledby="offered" {
                h2 #offered { "Offered to you" }
                ul { @for i in p.items { li { (i) } } }
                @if p.open {
                    p { "This offer works once, until " (time_el(p.expires_at)) "." }
                } @else {
                    div class="status invalid" role="status" {
                        p.verdict { "This offer has been used, has expired or was withdrawn." }
                        p { "Ask " (name) " for a new one." }
                    }
                }
            }
            @if p.open {
                section aria-labelledby="scan" {
                    h2 #scan { "Scan with your wallet" }
                    img.qr src=(p.qr) alt="QR code of the credential offer for your wallet app" width="256" height="256";
                    p { "Open your wallet app (one that supports OpenID for Verifiable Credential Issuance) and scan this code, or on this device "
                        a href=(p.link) { "open the offer in your wallet" } "." }
                    @if p.tx_code {
                        p { "Your wallet will ask for a code: " (name) " sent it to you separately." }
                    }
                    @if let Some(lcw) = &p.lcw {
                        p { "Using Learner Credential Wallet? "
                            a href=(lcw) { "Add them to Learner Credential Wallet" } "." }
                    }
                    p.desc { "Each credential is issued to your wallet's key: only your wallet can present it as yours." }
                }
            }
        }
    };
    document(
        "en",
        &title,
        html! { meta name="robots" content="noindex"; },
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_markup_and_quotes() {
        let s = "<script>alert(\"x&y\")</script>'";
        let page = document(
            "en",
            s,
            html! { meta name="description" content=(s); },
            html! { p { (s) } },
        );
        let escaped = "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;'";
        assert!(
            page.contains(&format!("<title>{escaped}</title>")),
            "{page}"
        );
        assert!(page.contains(&format!("content=\"{escaped}\">")), "{page}");
        assert!(page.contains(&format!("<p>{escaped}</p>")), "{page}");
        assert!(!page.contains("<script"));
        // Control characters (not whitespace) never reach the document.
        let page = document("en", "a\u{0}b", html! {}, html! { p { "c\u{1b}d\ne" } });
        assert!(page.contains("<title>a\u{FFFD}b</title>"), "{page}");
        assert!(page.contains("<p>c\u{FFFD}d\ne</p>"), "{page}");
    }

    #[test]
    fn only_http_links() {
        assert_eq!(link(Some("javascript:alert(1)"), "x").into_string(), "x");
        assert_eq!(link(Some("data:text/html,hi"), "x").into_string(), "x");
        assert_eq!(
            link(Some("https://a.example/?q=\"x\""), "<b>").into_string(),
            "<a href=\"https://a.example/?q=&quot;x&quot;\">&lt;b&gt;</a>"
        );
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(duration_words("PT15H"), "15 hours");
        assert_eq!(duration_words("P2DT1H30M"), "2 days, 1 hour, 30 minutes");
        assert_eq!(duration_words("P1W"), "1 week");
        assert_eq!(duration_words("PT"), "PT");
        assert_eq!(duration_words("15 hours"), "15 hours");
        assert_eq!(duration_words("PT5M3H"), "PT5M3H");
    }

    #[test]
    fn language_tags_are_sanitized() {
        assert_eq!(lang_tag(Some("fr-CA")), "fr-CA");
        assert_eq!(lang_tag(Some("\"><x")), "en");
        assert_eq!(lang_tag(None), "en");
    }

    #[test]
    fn linkedin_url_is_encoded() {
        let u = linkedin_url(
            "A & B",
            "Coll\u{e8}ge",
            Some("2025-03-04T00:00:00Z"),
            None,
            "https://x.example/credentials/1",
            "1",
        );
        assert_eq!(
            u,
            "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name=A%20%26%20B&organizationName=Coll%C3%A8ge&issueYear=2025&issueMonth=3&certUrl=https%3A%2F%2Fx.example%2Fcredentials%2F1&certId=1"
        );
    }

    #[test]
    fn recipient_never_reveals_salt_or_hash() {
        let s = json!({"identifier": [{"type": "IdentityObject", "hashed": true,
            "identityHash": "sha256$abc", "identityType": "emailAddress", "salt": "s3cr3t"}]});
        let w = recipient_words(&s).into_string();
        assert_eq!(w, "Issued to a hashed e-mail identity");
        assert_eq!(
            recipient_words(&json!({"id": "did:key:z6Mk<x>"})).into_string(),
            "Issued to <code>did:key:z6Mk&lt;x&gt;</code>"
        );
    }

    #[test]
    fn page_of_a_did_subject_with_evidence_and_expiry() {
        use microcred_core::{Check, CheckKind};
        let vc = json!({
            "id": "https://c.example/credentials/1",
            "issuer": {"id": "did:web:c.example", "name": "C <College>", "url": "javascript:alert(1)"},
            "validFrom": "2025-01-15T00:00:00Z",
            "validUntil": "2026-01-15T00:00:00Z",
            "credentialSubject": {
                "id": "did:key:z6MkLearner",
                "achievement": {"name": "Welding", "achievementType": "Certificate",
                    "inLanguage": "de",
                    "resultDescription": [{"id": "urn:rd:1", "name": "Practical", "resultType": "RubricCriterionLevel",
                        "requiredLevel": "urn:l:2", "rubricCriterionLevel": [
                            {"id": "urn:l:2", "name": "Competent"}, {"id": "urn:l:3", "name": "Expert"}]}]},
                "result": [{"resultDescription": "urn:rd:1", "achievedLevel": "urn:l:3"}],
                "evidence": [{"id": "https://c.example/e/1", "name": "Portfolio", "narrative": "Six <welds>"}]
            }
        });
        let report = Report {
            verdict: Verdict::Invalid,
            checks: vec![Check {
                check: CheckKind::Validity,
                proof: None,
                outcome: Outcome::Fail,
                reason: "expired on 2026-01-15T00:00:00Z".into(),
            }],
            credential_id: None,
            issuer: None,
            issuer_name: None,
            name: None,
            endorsements: Vec::new(),
        };
        let html = credential_page(&CredentialPage {
            url: "https://c.example/credentials/1",
            credential: &vc,
            report: &report,
            checked_at: "2026-02-01T00:00:00Z",
            badge_png: Some("https://c.example/credentials/1/badge.png"),
            pathway_record: None,
            stacked_from: None,
            stacks_into: Vec::new(),
            verifier: None,
            wallet: None,
        });
        for needle in [
            "<html lang=\"de\">",
            "Issued to <code>did:key:z6MkLearner</code>",
            "C &lt;College&gt;",
            "Valid until <time datetime=\"2026-01-15T00:00:00Z\">15 January 2026</time>",
            "<td data-label=\"Required\">Competent</td>",
            "<strong>Expert</strong>",
            "<a href=\"https://c.example/e/1\">Portfolio</a> — Six &lt;welds&gt;",
            "✗ Not valid",
            "expired on 2026-01-15T00:00:00Z",
            "&amp;issueYear=2025&amp;issueMonth=1&amp;expirationYear=2026&amp;expirationMonth=1",
            "<meta property=\"og:image\" content=\"https://c.example/credentials/1/badge.png\">",
        ] {
            assert!(html.contains(needle), "missing {needle:?} in\n{html}");
        }
        assert!(!html.contains("javascript:"));
        assert!(!html.contains("class=\"badge-img\""));
    }

    #[test]
    fn pathway_sections_escape_names_and_link_only_http() {
        let evil = |id: &str| AchievementRef {
            id: id.into(),
            name: Some("<b>Part</b>".into()),
            url: Some("javascript:alert(1)".into()),
        };
        let rule = || PathwayRule {
            required: vec![evil("urn:a"), evil("urn:b")],
            minimum_required: 1,
            minimum_credits: Some(6.0),
            completion_window: Some("P2Y".into()),
        };
        let stacked = stacked_from_section(
            &StackedFrom {
                rule: rule(),
                components: vec![ComponentRef {
                    label: "<i>One</i>".into(),
                    id: "urn:uuid:1".into(),
                    page: None,
                }],
            },
            Some("https://x.example/credentials/1/clr"),
        )
        .into_string();
        assert!(stacked.contains("requires 1 of the 2: &lt;b&gt;Part&lt;/b&gt;, &lt;b&gt;Part&lt;/b&gt;, awarded within 2 years, at least 6 credits"), "{stacked}");
        assert!(
            stacked.contains(
                "&lt;i&gt;One&lt;/i&gt; <span class=\"desc\">(<code>urn:uuid:1</code>)</span>"
            ),
            "{stacked}"
        );
        assert!(stacked.contains("<a href=\"https://x.example/credentials/1/clr\">"));
        let into = stacks_into_section(&[StacksInto {
            pathway: evil("urn:p"),
            rule: rule(),
            missing: Some(vec![evil("urn:b")]),
        }])
        .into_string();
        assert!(
            into.contains(
                "Still missing for the holder of this credential: &lt;b&gt;Part&lt;/b&gt;."
            ),
            "{into}"
        );
        for html in [&stacked, &into] {
            assert!(
                !html.contains("javascript:") && !html.contains("<b>") && !html.contains("<i>")
            );
        }
        assert_eq!(stacks_into_section(&[]).into_string(), "");
    }

    #[test]
    fn empty_catalogue() {
        let html = catalogue_page(&json!({"name": "X"}), "https://x.example/c", &[]);
        assert!(html.contains("No microcredentials are published yet."));
    }
}
