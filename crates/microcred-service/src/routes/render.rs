//! Server-side HTML for the pages people look at: a credential and an institution's
//! catalogue. Pure functions from JSON (and a verification report) to a complete HTML
//! document: no JavaScript, no external assets (one inline style sheet), every interpolated
//! value escaped with [`html_escape`] (credential content is untrusted), links only to
//! `http(s)` URLs.

use microcred_core::{Outcome, Report, Verdict};
use serde_json::Value;

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than whitespace are not allowed in HTML text.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

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
fn link(url: Option<&str>, text: &str) -> String {
    match url.and_then(safe_url) {
        Some(u) => format!("<a href=\"{}\">{}</a>", html_escape(u), html_escape(text)),
        None => html_escape(text),
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
fn time_el(s: &str) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        html_escape(s),
        html_escape(&date_words(s))
    )
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
code{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.9em;word-break:break-all}
footer{border-top:1px solid var(--line);color:var(--muted);font-size:.9rem;padding:1rem 0 2rem}
@media (max-width:40rem){table,tbody,tr,th,td{display:block;width:100%}caption:not(.visually-hidden){display:block}thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
tr{border-bottom:2px solid var(--line);padding:.4rem 0}th,td{border:0;padding:.15rem .2rem}
td[data-label]::before{content:attr(data-label) ": ";font-weight:600;color:var(--muted)}
dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.4rem}.badge-img{float:none;display:block;margin:0 0 1rem}}
"#;

/// The common document around a page's body.
fn document(lang: &str, title: &str, head_extra: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n{head_extra}<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        lang = html_escape(lang),
        title = html_escape(title),
    )
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
}

fn subject(vc: &Value) -> &Value {
    match vc.get("credentialSubject") {
        Some(Value::Array(a)) => a.first().unwrap_or(&Value::Null),
        Some(s) => s,
        None => &Value::Null,
    }
}

/// "Issued to …" without revealing salts or hashes.
fn recipient_words(subject: &Value) -> String {
    if let Some(id) = str_of(subject, "id") {
        return format!("Issued to <code>{}</code>", html_escape(id));
    }
    let ids = items(subject, "identifier");
    if let Some(first) = ids.first() {
        let kind = match str_of(first, "identityType") {
            Some("emailAddress") | None => "e-mail".to_owned(),
            Some(other) => humanize(other).to_lowercase(),
        };
        return if first.get("hashed").and_then(Value::as_bool) == Some(true) {
            format!("Issued to a hashed {} identity", html_escape(&kind))
        } else {
            format!(
                "Issued to a learner identified by {} (not shown)",
                html_escape(&kind)
            )
        };
    }
    "Issued to a learner (no identity stated)".to_owned()
}

fn outcome_words(o: Outcome) -> (&'static str, &'static str) {
    match o {
        Outcome::Pass => ("✓ Passed", "o-pass"),
        Outcome::Fail => ("✗ Failed", "o-fail"),
        Outcome::Unknown => ("? Unknown", "o-unknown"),
        _ => ("– Not checked", "o-not_checked"),
    }
}

fn verification_section(report: &Report, checked_at: &str) -> String {
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
    let mut rows = String::new();
    for c in &report.checks {
        let (words, oclass) = outcome_words(c.outcome);
        let label = match c.proof {
            Some(n) => format!("{} (proof {n})", humanize(c.check.label())),
            None => humanize(c.check.label()),
        };
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td class=\"{oclass}\" data-label=\"Result\">{}</td><td class=\"wrap-any\" data-label=\"Details\">{}</td></tr>\n",
            html_escape(&label),
            html_escape(words),
            html_escape(&c.reason)
        ));
    }
    format!(
        "<section aria-labelledby=\"verification\">\n<h2 id=\"verification\">Verification</h2>\n\
         <div class=\"status {class}\" role=\"status\"><p class=\"verdict\">{verdict}</p><p>{explain}</p>\
         <p>Checked live by the issuing service on {when} (signature, issuer key, status and expiry).</p></div>\n\
         <div class=\"table-wrap\"><table>\n<caption class=\"visually-hidden\">Verification checks</caption>\n\
         <thead><tr><th scope=\"col\">Check</th><th scope=\"col\">Result</th><th scope=\"col\">Details</th></tr></thead>\n\
         <tbody>\n{rows}</tbody></table></div>\n</section>\n",
        when = time_el(checked_at),
    )
}

fn competencies_section(achievement: &Value) -> String {
    let aligns = items(achievement, "alignment");
    if aligns.is_empty() {
        return String::new();
    }
    let mut rows = String::new();
    for a in aligns {
        let name = str_of(a, "targetName").unwrap_or("(unnamed)");
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td data-label=\"Framework\">{}</td><td data-label=\"Code\">{}</td><td data-label=\"Kind\">{}</td></tr>\n",
            link(str_of(a, "targetUrl"), name),
            html_escape(str_of(a, "targetFramework").unwrap_or("—")),
            str_of(a, "targetCode")
                .map(|c| format!("<code>{}</code>", html_escape(c)))
                .unwrap_or_else(|| "—".into()),
            html_escape(
                &type_name(a, "targetType")
                    .map(|t| humanize(&t))
                    .unwrap_or_default()
            ),
        ));
    }
    format!(
        "<section aria-labelledby=\"competencies\">\n<h2 id=\"competencies\">Competencies and frameworks</h2>\n\
         <div class=\"table-wrap\"><table>\n<thead><tr><th scope=\"col\">Competency</th><th scope=\"col\">Framework</th>\
         <th scope=\"col\">Code</th><th scope=\"col\">Kind</th></tr></thead>\n<tbody>\n{rows}</tbody></table></div>\n</section>\n"
    )
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

fn assessment_section(achievement: &Value, subject: &Value) -> String {
    let descriptions = items(achievement, "resultDescription");
    let results = items(subject, "result");
    if descriptions.is_empty() && results.is_empty() {
        return String::new();
    }
    let mut rows = String::new();
    let mut details = String::new();
    for rd in &descriptions {
        let id = str_of(rd, "id");
        let name = str_of(rd, "name").unwrap_or("(unnamed)");
        let required = str_of(rd, "requiredValue")
            .map(str::to_owned)
            .or_else(|| str_of(rd, "requiredLevel").map(|l| level_name(rd, l)))
            .map(|r| {
                if str_of(rd, "resultType") == Some("Percent") {
                    format!("{r} %")
                } else {
                    r
                }
            })
            .unwrap_or_else(|| "—".into());
        let result = results
            .iter()
            .find(|r| id.is_some() && str_of(r, "resultDescription") == id)
            .map(|r| {
                str_of(r, "value")
                    .map(|v| {
                        if str_of(rd, "resultType") == Some("Percent") {
                            format!("{v} %")
                        } else {
                            v.to_owned()
                        }
                    })
                    .or_else(|| str_of(r, "achievedLevel").map(|l| level_name(rd, l)))
                    .or_else(|| str_of(r, "status").map(humanize))
                    .unwrap_or_else(|| "—".into())
            })
            .unwrap_or_else(|| "not stated".into());
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td data-label=\"Result type\">{}</td><td data-label=\"Assessment type\">{}</td><td data-label=\"Required\">{}</td><td data-label=\"Learner&#39;s result\"><strong>{}</strong></td></tr>\n",
            html_escape(name),
            html_escape(&str_of(rd, "resultType").map(humanize).unwrap_or_default()),
            html_escape(&str_of(rd, "assessmentType").map(humanize).unwrap_or_else(|| "—".into())),
            html_escape(&required),
            html_escape(&result),
        ));
        let mut facts = String::new();
        for (key, label) in [
            ("description", "About"),
            ("assessmentOutput", "Output"),
            ("evaluationMethod", "Evaluation"),
        ] {
            if let Some(t) = str_of(rd, key) {
                facts.push_str(&format!("<dt>{label}</dt><dd>{}</dd>", html_escape(t)));
            }
        }
        if !facts.is_empty() {
            details.push_str(&format!(
                "<h3>{}</h3>\n<dl class=\"facts\">{facts}</dl>\n",
                html_escape(name)
            ));
        }
    }
    format!(
        "<section aria-labelledby=\"assessment\">\n<h2 id=\"assessment\">Assessment and result</h2>\n\
         <div class=\"table-wrap\"><table>\n<thead><tr><th scope=\"col\">Assessment</th><th scope=\"col\">Result type</th>\
         <th scope=\"col\">Assessment type</th><th scope=\"col\">Required</th><th scope=\"col\">Learner's result</th></tr></thead>\n\
         <tbody>\n{rows}</tbody></table></div>\n{details}</section>\n"
    )
}

/// Workload, mode, quality assurance and stacking as a definition list.
fn workload_facts(a: &Value) -> String {
    let mut facts = String::new();
    let mut fact = |label: &str, value: String| {
        facts.push_str(&format!("<dt>{label}</dt><dd>{value}</dd>\n"));
    };
    if let Some(v) = str_of(a, "volumeOfLearning") {
        fact("Workload", html_escape(&duration_words(v)));
    }
    if let Some(c) = text_of(a, "creditsAvailable") {
        let system = str_of(a, "creditSystem")
            .map(|s| format!(" ({})", link(Some(s), "credit system")))
            .unwrap_or_default();
        fact("Credits", format!("{}{system}", html_escape(&c)));
    }
    if let Some(m) = str_of(a, "learningMode") {
        fact("Learning mode", html_escape(&humanize(m)));
    }
    if let Some(s) = str_of(a, "assessmentSupervision") {
        fact("Assessment supervision", html_escape(&humanize(s)));
    }
    if let Some(l) = text_of(a, "qualificationLevel").or_else(|| text_of(a, "level")) {
        fact("Level", html_escape(&l));
    }
    if let Some(f) = str_of(a, "fieldOfStudy") {
        fact("Field of study", html_escape(f));
    }
    if let Some(e) = str_of(a, "entryRequirement") {
        fact("Entry requirements", html_escape(e));
    }
    for qa in items(a, "qualityAssurance") {
        let name = str_of(qa, "name").unwrap_or("Quality assurance");
        let kind = str_of(qa, "qualityAssuranceType")
            .map(|k| format!(" ({})", html_escape(&humanize(k))))
            .unwrap_or_default();
        let desc = str_of(qa, "description")
            .map(|d| format!("<br>{}", html_escape(d)))
            .unwrap_or_default();
        fact(
            "Quality assurance",
            format!("{}{kind}{desc}", link(str_of(qa, "url"), name)),
        );
    }
    if let Some(st) = a.get("stackability") {
        let option = str_of(st, "integrationOption")
            .map(|o| html_escape(&humanize(o)))
            .unwrap_or_else(|| "Stackable".into());
        let into: Vec<String> = items(st, "stacksInto")
            .into_iter()
            .filter_map(Value::as_str)
            .map(|u| link(Some(u), u))
            .collect();
        let into = if into.is_empty() {
            String::new()
        } else {
            format!(": stacks into {}", into.join(", "))
        };
        fact("Stackability", format!("{option}{into}"));
    }
    facts
}

fn evidence_section(vc: &Value, subject: &Value) -> String {
    let mut all = items(vc, "evidence");
    all.extend(items(subject, "evidence"));
    if all.is_empty() {
        return String::new();
    }
    let mut li = String::new();
    for e in all {
        let name = str_of(e, "name")
            .or_else(|| str_of(e, "id"))
            .unwrap_or("Evidence");
        let narrative = str_of(e, "narrative")
            .or_else(|| str_of(e, "description"))
            .map(|n| format!(" — {}", html_escape(n)))
            .unwrap_or_default();
        li.push_str(&format!(
            "<li>{}{narrative}</li>\n",
            link(str_of(e, "id"), name)
        ));
    }
    format!(
        "<section aria-labelledby=\"evidence\">\n<h2 id=\"evidence\">Evidence</h2>\n<ul>\n{li}</ul>\n</section>\n"
    )
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
    let mut head = String::new();
    for (prop, val) in [
        ("og:type", "website"),
        ("og:title", name),
        ("og:description", og_desc.as_str()),
        ("og:url", p.url),
        ("og:site_name", issuer_name),
    ] {
        head.push_str(&format!(
            "<meta property=\"{prop}\" content=\"{}\">\n",
            html_escape(val)
        ));
    }
    if let Some(img) = image {
        head.push_str(&format!(
            "<meta property=\"og:image\" content=\"{}\">\n",
            html_escape(img)
        ));
    }
    head.push_str(&format!(
        "<meta name=\"description\" content=\"{}\">\n<link rel=\"canonical\" href=\"{}\">\n\
         <link rel=\"alternate\" type=\"application/vc+ld+json\" href=\"{}\">\n",
        html_escape(&og_desc),
        html_escape(p.url),
        html_escape(&json_url)
    ));

    let mut meta = vec![format!("<span>{}</span>", html_escape(&kind))];
    if let Some(c) = str_of(ach, "humanCode") {
        meta.push(format!("<span>Code {}</span>", html_escape(c)));
    }
    if let Some(i) = issued {
        meta.push(format!("<span>Issued {}</span>", time_el(i)));
    }
    meta.push(format!(
        "<span>{}</span>",
        match until {
            Some(u) => format!("Valid until {}", time_el(u)),
            None => "No expiry date".into(),
        }
    ));
    let header = format!(
        "<header class=\"site\"><div class=\"wrap\">\n<p class=\"issuer\">{}{}</p>\n<h1>{}</h1>\n<p class=\"meta\">{}</p>\n</div></header>\n",
        link(str_of(issuer, "url"), issuer_name),
        country.map(|c| format!(", {}", html_escape(c))).unwrap_or_default(),
        html_escape(name),
        meta.join(""),
    );

    let mut main = String::new();
    main.push_str(&verification_section(p.report, p.checked_at));

    // About
    main.push_str(
        "<section aria-labelledby=\"about\">\n<h2 id=\"about\">About this credential</h2>\n",
    );
    // The badge image celebrates the achievement: shown only while the credential verifies.
    if let Some(png) = p.badge_png.filter(|_| p.report.verdict == Verdict::Valid) {
        main.push_str(&format!(
            "<img class=\"badge-img\" src=\"{}\" alt=\"Badge image of {}\" width=\"128\" height=\"128\">\n",
            html_escape(png),
            html_escape(name)
        ));
    }
    if !description.is_empty() {
        main.push_str(&format!(
            "<p class=\"lead\">{}</p>\n",
            html_escape(description)
        ));
    }
    main.push_str(&format!("<p>{}.</p>\n", recipient_words(subj)));
    let mut facts = format!(
        "<dt>Issuer</dt><dd>{}{}</dd>\n<dt>Type</dt><dd>{}</dd>\n",
        link(str_of(issuer, "url"), issuer_name),
        country
            .map(|c| format!(", {}", html_escape(c)))
            .unwrap_or_default(),
        html_escape(&kind)
    );
    if let Some(i) = issued {
        facts.push_str(&format!("<dt>Issued on</dt><dd>{}</dd>\n", time_el(i)));
    }
    facts.push_str(&format!(
        "<dt>Valid until</dt><dd>{}</dd>\n",
        until
            .map(time_el)
            .unwrap_or_else(|| "no expiry date".into())
    ));
    if let Some(v) = str_of(ach, "version") {
        facts.push_str(&format!("<dt>Version</dt><dd>{}</dd>\n", html_escape(v)));
    }
    main.push_str(&format!("<dl class=\"facts\">\n{facts}</dl>\n"));
    if let Some(c) = ach.get("criteria") {
        if let Some(n) = str_of(c, "narrative") {
            main.push_str(&format!(
                "<h3>Criteria</h3>\n<div class=\"narrative\">{}</div>\n",
                html_escape(n)
            ));
        }
        if let Some(u) = str_of(c, "id").and_then(safe_url) {
            main.push_str(&format!("<p>{}</p>\n", link(Some(u), "Full criteria")));
        }
    }
    main.push_str("</section>\n");

    main.push_str(&competencies_section(ach));
    main.push_str(&assessment_section(ach, subj));
    let facts = workload_facts(ach);
    if !facts.is_empty() {
        main.push_str(&format!(
            "<section aria-labelledby=\"workload\">\n<h2 id=\"workload\">Workload, mode and quality</h2>\n<dl class=\"facts\">\n{facts}</dl>\n</section>\n"
        ));
    }
    main.push_str(&evidence_section(vc, subj));

    // Share and download
    let linkedin = linkedin_url(name, issuer_name, issued, until, p.url, cert_id);
    let mut actions = format!(
        "<a class=\"button primary\" href=\"{}\">Add to LinkedIn profile</a>\n\
         <a class=\"button\" href=\"{}\" download=\"credential-{}.json\" type=\"application/vc+ld+json\">Download credential (JSON)</a>\n",
        html_escape(&linkedin),
        html_escape(&json_url),
        html_escape(cert_id),
    );
    if let Some(png) = p.badge_png {
        actions.push_str(&format!(
            "<a class=\"button\" href=\"{}\" download=\"badge-{}.png\" type=\"image/png\">Download badge image (PNG with the credential baked in)</a>\n",
            html_escape(png),
            html_escape(cert_id)
        ));
    }
    if let Some(clr) = p.pathway_record {
        actions.push_str(&format!(
            "<a class=\"button\" href=\"{}\" download=\"pathway-record-{}.json\" type=\"application/vc+ld+json\">Download the pathway record (CLR 2.0: this credential with its components)</a>\n",
            html_escape(clr),
            html_escape(cert_id)
        ));
    }
    main.push_str(&format!(
        "<section aria-labelledby=\"share\">\n<h2 id=\"share\">Share and download</h2>\n<div class=\"actions\">\n{actions}</div>\n\
         <p>The JSON file is the signed credential exactly as issued; any Open Badges 3.0 verifier can check it. \
         Its address: <code>{}</code></p>\n</section>\n",
        html_escape(p.url)
    ));

    let body = format!(
        "{header}<main class=\"wrap\">\n{main}</main>\n<footer><div class=\"wrap\"><p>Open Badges 3.0 verifiable credential issued by {}. \
         Issuer identifier: <code>{}</code></p></div></footer>\n",
        html_escape(issuer_name),
        html_escape(str_of(issuer, "id").or_else(|| issuer.as_str()).unwrap_or("—")),
    );
    let title = format!("{name} — {issuer_name}");
    document(&lang_tag(str_of(ach, "inLanguage")), &title, &head, &body)
}

/// One catalogue entry: its slug, public definition URL and definition.
#[derive(Debug)]
pub(crate) struct CatalogueEntry<'a> {
    pub(crate) url: String,
    pub(crate) definition: &'a Value,
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
    let mut rows = String::new();
    for e in entries {
        let d = e.definition;
        let title = str_of(d, "name").unwrap_or("(unnamed)");
        let credits = text_of(d, "creditsAvailable").unwrap_or_else(|| "—".into());
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}{}</th><td class=\"nowrap\" data-label=\"Code\">{}</td><td data-label=\"Type\">{}</td><td data-label=\"Workload\">{}</td><td data-label=\"Mode\">{}</td><td data-label=\"Credits\">{}</td><td data-label=\"Competencies\">{}</td></tr>\n",
            link(Some(&e.url), title),
            str_of(d, "description")
                .map(|t| {
                    let short: String = t.chars().take(160).collect();
                    let more = if t.chars().count() > 160 { "…" } else { "" };
                    format!("<br><span class=\"desc\">{}{more}</span>", html_escape(&short))
                })
                .unwrap_or_default(),
            html_escape(str_of(d, "humanCode").unwrap_or("—")),
            html_escape(&type_name(d, "achievementType").map(|t| humanize(&t)).unwrap_or_else(|| "—".into())),
            html_escape(&str_of(d, "volumeOfLearning").map(duration_words).unwrap_or_else(|| "—".into())),
            html_escape(&str_of(d, "learningMode").map(humanize).unwrap_or_else(|| "—".into())),
            html_escape(&credits),
            items(d, "alignment").len(),
        ));
    }
    let table = if entries.is_empty() {
        "<p>No microcredentials are published yet.</p>\n".to_owned()
    } else {
        format!(
            "<div class=\"table-wrap\"><table>\n<caption>{} microcredential{} on offer</caption>\n<thead><tr><th scope=\"col\">Microcredential</th><th scope=\"col\">Code</th>\
             <th scope=\"col\">Type</th><th scope=\"col\">Workload</th><th scope=\"col\">Mode</th><th scope=\"col\">Credits</th>\
             <th scope=\"col\">Competencies</th></tr></thead>\n<tbody>\n{rows}</tbody></table></div>\n",
            entries.len(),
            if entries.len() == 1 { "" } else { "s" }
        )
    };
    let mut head = String::new();
    let desc = format!("Microcredentials offered by {name}.");
    for (prop, val) in [
        ("og:type", "website"),
        ("og:title", &format!("Microcredentials — {name}")[..]),
        ("og:description", &desc[..]),
        ("og:url", page_url),
    ] {
        head.push_str(&format!(
            "<meta property=\"{prop}\" content=\"{}\">\n",
            html_escape(val)
        ));
    }
    head.push_str(&format!(
        "<meta name=\"description\" content=\"{}\">\n<link rel=\"alternate\" type=\"application/json\" href=\"{}?format=json\">\n",
        html_escape(&desc),
        html_escape(page_url)
    ));
    let body = format!(
        "<header class=\"site\"><div class=\"wrap\">\n<p class=\"issuer\">{}{}</p>\n<h1>Microcredentials</h1>\n</div></header>\n\
         <main class=\"wrap\">\n<section aria-labelledby=\"catalogue\">\n<h2 id=\"catalogue\">Catalogue</h2>\n{}{table}</section>\n</main>\n\
         <footer><div class=\"wrap\"><p>Each name links to the microcredential's machine-readable definition (Open Badges 3.0 Achievement).</p></div></footer>\n",
        link(str_of(profile, "url"), name),
        country.map(|c| format!(", {}", html_escape(c))).unwrap_or_default(),
        str_of(profile, "description")
            .map(|d| format!("<p class=\"lead\">{}</p>\n", html_escape(d)))
            .unwrap_or_default(),
    );
    document("en", &format!("Microcredentials — {name}"), &head, &body)
}

/// The microcredential extension vocabulary (`/ns/microcred/v1`): one row per term with an
/// anchor named after it, so every term IRI (`https://w3id.org/microcred/v1#term`) has a
/// human-readable definition here.
pub(crate) fn vocabulary_page(page_url: &str) -> String {
    use microcred_core::{TermKind, MICROCRED_VOCAB, MICROCRED_VOCABULARY};
    let mut rows = String::new();
    for t in MICROCRED_VOCABULARY {
        let kind = match t.kind {
            TermKind::Property => "property",
            TermKind::Class => "class",
            _ => "term",
        };
        rows.push_str(&format!(
            "<tr id=\"{term}\"><th scope=\"row\"><code>{term}</code><br><span class=\"desc\">{kind}</span></th>\
             <td data-label=\"Used on\">{on}</td><td data-label=\"Values\">{values}</td>\
             <td data-label=\"Meaning\">{def}</td><td data-label=\"EU Annex I\">{annex}</td></tr>\n",
            term = html_escape(t.term),
            on = html_escape(t.used_on),
            values = html_escape(t.values),
            def = html_escape(t.definition),
            annex = html_escape(t.annex_i.unwrap_or("—")),
        ));
    }
    let body = format!(
        "<header class=\"site\"><div class=\"wrap\">\n<h1>Microcredential extension terms, version 1</h1>\n</div></header>\n\
         <main class=\"wrap\">\n<p class=\"lead\">Open Badges 3.0 terms that describe a microcredential beyond what the \
         Open Badges model carries: workload, form of participation, supervision of the assessment, quality assurance, \
         prerequisites and stackability. Each term's IRI is <code>{vocab}</code> followed by the term.</p>\n\
         <p>Credentials carry these terms with an embedded JSON-LD context (a map in the \
         <code>@context</code> of <code>credentialSubject</code>), so any verifier can process them without fetching anything. The same context as a document: \
         {json_link}.</p>\n\
         <section aria-labelledby=\"terms\">\n<h2 id=\"terms\">Terms</h2>\n<div class=\"table-wrap\"><table>\n\
         <caption>{n} terms</caption>\n<thead><tr><th scope=\"col\">Term</th><th scope=\"col\">Used on</th>\
         <th scope=\"col\">Values</th><th scope=\"col\">Meaning</th><th scope=\"col\">EU Annex I element</th></tr></thead>\n\
         <tbody>\n{rows}</tbody></table></div>\n</section>\n</main>\n",
        vocab = html_escape(MICROCRED_VOCAB),
        json_link = link(Some(&format!("{page_url}?format=json")), "JSON-LD"),
        n = MICROCRED_VOCABULARY.len(),
    );
    let head = format!(
        "<meta name=\"description\" content=\"Definitions of the microcredential extension terms for Open Badges 3.0.\">\n\
         <link rel=\"alternate\" type=\"application/ld+json\" href=\"{}?format=json\">\n",
        html_escape(page_url)
    );
    document("en", "Microcredential extension terms", &head, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            html_escape("<script>alert(\"x&y\")</script>'"),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;&#39;"
        );
        assert_eq!(html_escape("a\u{0}b"), "a\u{FFFD}b");
    }

    #[test]
    fn only_http_links() {
        assert_eq!(link(Some("javascript:alert(1)"), "x"), "x");
        assert_eq!(link(Some("data:text/html,hi"), "x"), "x");
        assert_eq!(
            link(Some("https://a.example/?q=\"x\""), "<b>"),
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
        let w = recipient_words(&s);
        assert_eq!(w, "Issued to a hashed e-mail identity");
        assert_eq!(
            recipient_words(&json!({"id": "did:key:z6Mk<x>"})),
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
    fn empty_catalogue() {
        let html = catalogue_page(&json!({"name": "X"}), "https://x.example/c", &[]);
        assert!(html.contains("No microcredentials are published yet."));
    }
}
