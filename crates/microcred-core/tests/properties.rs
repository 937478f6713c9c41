//! Property tests: sign/verify round trips, tamper detection, JCS invariants, robustness.
//!
//! Credentials are realistic Open Badges 3.0 documents with generated content: strings with
//! non-ASCII text, escapes, controls and emoji; integers (including beyond 2^53) and floats;
//! optional members; nested arrays and objects of arbitrary JSON in extension members.
//!
//! The eddsa-rdfc-2022 properties (at the end) use credentials with only context-defined terms.
//!
//! The number of cases per property is 128 by default (48 for eddsa-rdfc-2022; signing and
//! verifying in a debug build is slow); set `PROPTEST_CASES` to run more.

// Test helpers (outside #[test] functions) may unwrap and panic too: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::OnceLock;

use microcred_core::{
    format_datetime, jcs, parse_strict, sign, verify, verify_value, CheckKind, Cryptosuite,
    IssuerKey, KeyRing, Outcome, Report, Verdict, VerifyOptions, OB_CONTEXT, VC_V2_CONTEXT,
};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Map, Number, Value};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use common::outcomes;

// ---------------------------------------------------------------------------------------------
// fixtures

/// When every generated credential is signed.
const CREATED: OffsetDateTime = datetime!(2025-01-15 10:00 UTC);
/// When it is verified: after `validFrom`, before `validUntil`.
const AT: OffsetDateTime = datetime!(2025-06-01 12:00 UTC);

fn key() -> &'static IssuerKey {
    static KEY: OnceLock<IssuerKey> = OnceLock::new();
    KEY.get_or_init(|| IssuerKey::from_seed(&[7u8; 32]).unwrap())
}

fn keyring() -> &'static KeyRing {
    static RING: OnceLock<KeyRing> = OnceLock::new();
    RING.get_or_init(KeyRing::new)
}

fn verify_bytes(bytes: &[u8]) -> Report {
    verify(bytes, &VerifyOptions::new(AT, keyring()))
}

fn sign_jcs(credential: &Value) -> Value {
    sign(credential, key(), Cryptosuite::EddsaJcs2022, CREATED).unwrap()
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(128);
    ProptestConfig {
        cases,
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    }
}

fn canon(v: &Value) -> String {
    jcs::canonicalize_to_string(v)
}

// ---------------------------------------------------------------------------------------------
// generators

/// Strings that have tripped canonicalizers and parsers.
const TRICKY: &[&str] = &[
    "",
    "é",
    "Café crème brûlée",
    "naïve façade — “quotes” ‘single’",
    "日本語のテキスト",
    "Ελληνικά",
    "😀🎓",
    "👩\u{200d}🎓 Graduate",
    "A\u{30a} (unnormalized) vs \u{c5}",
    "\"quoted\" \\back\\slash/ forward/",
    "line\nbreak\ttab\rreturn\u{8}\u{c}",
    "\u{0}\u{1}\u{1f}\u{7f}\u{80}\u{9f}",
    "\u{2028}\u{2029}",
    "\u{feff}bom",
    "\u{fb33}\u{10000}\u{10ffff}",
    "</script><!--",
    "\\u00e9 is not an escape here",
    "€$\u{f}\nA'B\"\\\\\"/",
    "  leading and trailing  ",
];

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[A-Za-z0-9 ,.:;'()&-]{0,24}",
        2 => any::<String>(),
        2 => prop::collection::vec(any::<char>(), 0..12).prop_map(String::from_iter),
        2 => prop::sample::select(TRICKY).prop_map(str::to_owned),
        1 => prop::collection::vec(prop::sample::select(TRICKY), 0..4).prop_map(|v| v.concat()),
    ]
    .boxed()
}

const SPECIAL_F64: &[f64] = &[
    0.0,
    -0.0,
    0.1,
    1.0,
    -1.5,
    4.5,
    100.0,
    1e21,
    1e-7,
    1e-6,
    5e-324,
    f64::MAX,
    f64::MIN,
    f64::MIN_POSITIVE,
    f64::EPSILON,
    9_007_199_254_740_992.0,
    333_333_333.333_333_3,
    1e23,
    1_424_953_923_781_206.2,
];

fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        (-1000i64..1000).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Integers around 2^53, where doubles stop being exact.
        (9_007_199_254_740_000u64..9_007_199_254_742_000).prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        (-1.0e6f64..1.0e6).prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop::sample::select(SPECIAL_F64)
            .prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
    ]
    .boxed()
}

fn leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        3 => number(),
        4 => text().prop_map(Value::String),
    ]
    .boxed()
}

/// Arbitrary JSON: nested arrays and objects (member names are arbitrary strings too).
fn json_any() -> BoxedStrategy<Value> {
    leaf()
        .prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((text(), inner), 0..5)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
        .boxed()
}

fn https_url() -> impl Strategy<Value = String> {
    "https://[a-z]{3,10}\\.example/[a-z0-9-]{1,16}(/[a-z0-9-]{1,12})?"
}

fn achievement() -> impl Strategy<Value = Value> {
    let core = (
        "https://[a-z]{3,10}\\.example/achievements/[a-z0-9-]{1,16}",
        text(),
        text(),
        text(),
        prop::option::of(prop::sample::select(
            &["MicroCredential", "Course", "Certificate", "Badge"][..],
        )),
    );
    let alignment = (
        text(),
        https_url(),
        prop::option::of("[A-Z]{2,4}-[0-9]{3}"),
        prop::option::of(text()),
    );
    let optional = (
        prop::option::of(prop::collection::vec(text(), 0..5)),
        prop::option::of(prop::collection::vec(alignment, 1..4)),
        prop::option::of(number()),
        prop::option::of(prop::collection::vec((text(), number(), number()), 1..3)),
        prop::option::of((
            "PT[1-9][0-9]{0,2}H",
            prop::sample::select(&["online", "onsite", "blended"][..]),
        )),
        prop::option::of(json_any()),
    );
    (core, optional).prop_map(
        |(
            (id, name, description, narrative, kind),
            (tags, alignments, credits, results, microcred, ext),
        )| {
            let mut a = Map::new();
            a.insert("id".into(), id.into());
            a.insert("type".into(), json!(["Achievement"]));
            if let Some(kind) = kind {
                a.insert("achievementType".into(), kind.into());
            }
            a.insert("name".into(), name.into());
            a.insert("description".into(), description.into());
            a.insert("criteria".into(), json!({ "narrative": narrative }));
            if let Some(tags) = tags {
                a.insert("tag".into(), json!(tags));
            }
            if let Some(alignments) = alignments {
                let items: Vec<Value> = alignments
                    .into_iter()
                    .map(|(name, url, code, framework)| {
                        let mut o =
                            json!({"type": ["Alignment"], "targetName": name, "targetUrl": url});
                        if let Some(code) = code {
                            o["targetCode"] = code.into();
                        }
                        if let Some(framework) = framework {
                            o["targetFramework"] = framework.into();
                        }
                        o
                    })
                    .collect();
                a.insert("alignment".into(), Value::Array(items));
            }
            if let Some(credits) = credits {
                a.insert("creditsAvailable".into(), credits);
            }
            if let Some(results) = results {
                let items: Vec<Value> = results
                    .into_iter()
                    .enumerate()
                    .map(|(i, (name, min, max))| {
                        json!({
                            "id": format!("urn:example:result:{i}"),
                            "type": ["ResultDescription"],
                            "name": name,
                            "resultType": "Percent",
                            "valueMin": min,
                            "valueMax": max,
                        })
                    })
                    .collect();
                a.insert("resultDescription".into(), Value::Array(items));
            }
            if let Some((volume, mode)) = microcred {
                a.insert("volumeOfLearning".into(), volume.into());
                a.insert("learningMode".into(), mode.into());
            }
            if let Some(ext) = ext {
                a.insert("extension".into(), ext);
            }
            Value::Object(a)
        },
    )
}

/// Top-level member names a generated extension member must not take (they have meaning to
/// the verifier, and a random value would make the credential invalid on purpose).
const RESERVED: &[&str] = &[
    "@context",
    "id",
    "type",
    "name",
    "description",
    "issuer",
    "validFrom",
    "validUntil",
    "credentialSubject",
    "proof",
    "credentialStatus",
    "evidence",
    "credentialSchema",
    "awardedDate",
    "issuanceDate",
    "expirationDate",
];

/// A realistic unsigned OB 3.0 credential issued by `key()`.
fn credential() -> impl Strategy<Value = Value> {
    let head = (
        "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        prop::option::of(text()),
        prop::option::of(text()),
        (
            text(),
            prop::option::of(https_url()),
            prop::option::of("[a-z]{1,8}@[a-z]{3,8}\\.example"),
            prop::option::of(text()),
        ),
    );
    let subject = (
        prop::option::of("did:example:[a-z0-9]{1,16}"),
        achievement(),
        prop::option::of(prop::collection::vec(
            prop_oneof![text().prop_map(Value::String), number()],
            1..3,
        )),
    );
    let dates = (0i64..2000, prop::option::of(1i64..4000), any::<bool>());
    let tail = (
        prop::option::of(prop::collection::vec((https_url(), text()), 1..3)),
        prop::collection::vec((text(), json_any()), 0..3),
        any::<bool>(),
        any::<bool>(),
    );
    (head, subject, dates, tail).prop_map(
        |((uuid, name, description, (issuer_name, url, email, issuer_desc)), (subject_id, achievement, results), (from_days, until_days, awarded), (evidence, extras, schema, single_type_issuer))| {
            let mut issuer = Map::new();
            issuer.insert("id".into(), key().controller().into());
            issuer.insert(
                "type".into(),
                if single_type_issuer { json!("Profile") } else { json!(["Profile"]) },
            );
            issuer.insert("name".into(), issuer_name.into());
            if let Some(url) = url {
                issuer.insert("url".into(), url.into());
            }
            if let Some(email) = email {
                issuer.insert("email".into(), email.into());
            }
            if let Some(d) = issuer_desc {
                issuer.insert("description".into(), d.into());
            }
            let mut c = Map::new();
            c.insert("@context".into(), json!([VC_V2_CONTEXT, OB_CONTEXT]));
            c.insert("id".into(), format!("urn:uuid:{uuid}").into());
            c.insert("type".into(), json!(["VerifiableCredential", "OpenBadgeCredential"]));
            if let Some(name) = name {
                c.insert("name".into(), name.into());
            }
            if let Some(d) = description {
                c.insert("description".into(), d.into());
            }
            c.insert("issuer".into(), Value::Object(issuer));
            let from = AT - Duration::days(from_days) - Duration::seconds(1);
            c.insert("validFrom".into(), format_datetime(from).into());
            if let Some(days) = until_days {
                c.insert("validUntil".into(), format_datetime(AT + Duration::days(days)).into());
            }
            if awarded {
                c.insert("awardedDate".into(), format_datetime(from).into());
            }
            let mut subject = Map::new();
            if let Some(id) = subject_id {
                subject.insert("id".into(), id.into());
            }
            subject.insert("type".into(), json!(["AchievementSubject"]));
            subject.insert("achievement".into(), achievement);
            if let Some(values) = results {
                let items: Vec<Value> = values
                    .into_iter()
                    .map(|v| json!({"type": ["Result"], "resultDescription": "urn:example:result:0", "value": v}))
                    .collect();
                subject.insert("result".into(), Value::Array(items));
            }
            c.insert("credentialSubject".into(), Value::Object(subject));
            if let Some(evidence) = evidence {
                let items: Vec<Value> = evidence
                    .into_iter()
                    .map(|(id, narrative)| json!({"id": id, "type": ["Evidence"], "narrative": narrative}))
                    .collect();
                c.insert("evidence".into(), Value::Array(items));
            }
            if schema {
                c.insert(
                    "credentialSchema".into(),
                    json!([{"id": microcred_core::OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}]),
                );
            }
            for (name, value) in extras {
                if !RESERVED.contains(&name.as_str()) && !c.contains_key(&name) {
                    c.insert(name, value);
                }
            }
            Value::Object(c)
        },
    )
}

fn signed_credential() -> impl Strategy<Value = Value> {
    credential().prop_map(|c| sign_jcs(&c))
}

// ---------------------------------------------------------------------------------------------
// paths into a JSON value

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Idx(usize),
}

type Path = Vec<Seg>;

fn show(path: &[Seg]) -> String {
    let mut s = String::from("$");
    for seg in path {
        match seg {
            Seg::Key(k) => s.push_str(&format!("[{k:?}]")),
            Seg::Idx(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn get_mut<'a>(mut v: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    for seg in path {
        v = match (seg, v) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k).unwrap(),
            (Seg::Idx(i), Value::Array(a)) => &mut a[*i],
            (seg, other) => panic!("path segment {seg:?} does not fit {other}"),
        };
    }
    v
}

fn get<'a>(mut v: &'a Value, path: &[Seg]) -> &'a Value {
    for seg in path {
        v = match (seg, v) {
            (Seg::Key(k), Value::Object(m)) => &m[k],
            (Seg::Idx(i), Value::Array(a)) => &a[*i],
            (seg, other) => panic!("path segment {seg:?} does not fit {other}"),
        };
    }
    v
}

/// Every place in a document where a single change can be made.
#[derive(Default)]
struct Inventory {
    /// Every value (root included).
    all: Vec<Path>,
    /// Scalars and empty containers.
    leaves: Vec<Path>,
    /// Every object member, as (object path, member name).
    members: Vec<(Path, String)>,
    /// Arrays with at least two elements whose canonical forms differ.
    swappable: Vec<Path>,
    /// Every object.
    objects: Vec<Path>,
}

fn inventory(v: &Value) -> Inventory {
    fn walk(v: &Value, path: &mut Path, inv: &mut Inventory) {
        inv.all.push(path.clone());
        match v {
            Value::Object(m) => {
                inv.objects.push(path.clone());
                if m.is_empty() {
                    inv.leaves.push(path.clone());
                }
                for (k, child) in m {
                    inv.members.push((path.clone(), k.clone()));
                    path.push(Seg::Key(k.clone()));
                    walk(child, path, inv);
                    path.pop();
                }
            }
            Value::Array(a) => {
                if a.is_empty() {
                    inv.leaves.push(path.clone());
                }
                let first = a.first().map(canon);
                if a.iter().any(|x| Some(canon(x)) != first) {
                    inv.swappable.push(path.clone());
                }
                for (i, child) in a.iter().enumerate() {
                    path.push(Seg::Idx(i));
                    walk(child, path, inv);
                    path.pop();
                }
            }
            _ => inv.leaves.push(path.clone()),
        }
    }
    let mut inv = Inventory::default();
    walk(v, &mut Vec::new(), &mut inv);
    inv
}

/// A value certainly different from `v` after canonicalization.
fn tweak(v: &Value) -> Value {
    match v {
        Value::Null => Value::Bool(false),
        Value::Bool(b) => Value::Bool(!b),
        Value::String(s) => Value::String(format!("{s}·")),
        Value::Number(n) => {
            let f = n.as_f64().unwrap();
            let g = if f.abs() < 1e15 { f + 1.0 } else { f / 2.0 };
            Value::Number(Number::from_f64(g).unwrap())
        }
        Value::Array(a) => {
            let mut a = a.clone();
            a.push(Value::Null);
            Value::Array(a)
        }
        Value::Object(m) => {
            let mut m = m.clone();
            m.insert(fresh_name(&m, "tweak"), Value::Null);
            Value::Object(m)
        }
    }
}

/// `wanted`, or `wanted` with `_` appended until no member of `m` has that name.
fn fresh_name(m: &Map<String, Value>, wanted: &str) -> String {
    let mut name = wanted.to_owned();
    while m.contains_key(&name) {
        name.push('_');
    }
    name
}

// ---------------------------------------------------------------------------------------------
// single changes

#[derive(Debug, Clone)]
enum Change {
    Leaf(Index, Value),
    RenameKey(Index, String),
    Swap(Index, Index, Index),
    AddMember(Index, String, Value),
    RemoveMember(Index),
    FlipProofValue(Index, Index),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (any::<Index>(), leaf()).prop_map(|(i, v)| Change::Leaf(i, v)),
        (any::<Index>(), text()).prop_map(|(i, k)| Change::RenameKey(i, k)),
        (any::<Index>(), any::<Index>(), any::<Index>())
            .prop_map(|(a, i, j)| Change::Swap(a, i, j)),
        (any::<Index>(), text(), json_any()).prop_map(|(i, k, v)| Change::AddMember(i, k, v)),
        any::<Index>().prop_map(Change::RemoveMember),
        (any::<Index>(), any::<Index>()).prop_map(|(p, c)| Change::FlipProofValue(p, c)),
    ]
}

/// The outcome of applying a change: the changed document, where the change was made, and a
/// description for failure messages.
struct Applied {
    doc: Value,
    /// The path of the changed value or member (for a member change: the member's path).
    at: Path,
    what: String,
}

const BASE58: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn apply(signed: &Value, change: &Change) -> Option<Applied> {
    let inv = inventory(signed);
    let mut doc = signed.clone();
    let applied = match change {
        Change::Leaf(i, alt) => {
            let path = i.get(&inv.leaves).clone();
            let old = get(&doc, &path).clone();
            let new = if canon(alt) != canon(&old) {
                alt.clone()
            } else {
                tweak(&old)
            };
            let what = format!("change leaf {} from {old} to {new}", show(&path));
            *get_mut(&mut doc, &path) = new;
            Applied {
                doc,
                at: path,
                what,
            }
        }
        Change::RenameKey(i, name) => {
            let (obj_path, key) = i.get(&inv.members).clone();
            let Value::Object(m) = get_mut(&mut doc, &obj_path) else {
                unreachable!()
            };
            let name = if name == &key {
                format!("{name}_")
            } else {
                name.clone()
            };
            let name = fresh_name(m, &name);
            let value = m.shift_remove(&key).unwrap();
            m.insert(name.clone(), value);
            let mut at = obj_path.clone();
            at.push(Seg::Key(key.clone()));
            Applied {
                doc,
                what: format!("rename member {} to {name:?}", show(&at)),
                at,
            }
        }
        Change::Swap(a, i, j) => {
            if inv.swappable.is_empty() {
                return None;
            }
            let path = a.get(&inv.swappable).clone();
            let Value::Array(items) = get_mut(&mut doc, &path) else {
                unreachable!()
            };
            let i = i.index(items.len());
            let others: Vec<usize> = (0..items.len())
                .filter(|&j| canon(&items[j]) != canon(&items[i]))
                .collect();
            let j = *j.get(&others);
            items.swap(i, j);
            Applied {
                doc,
                what: format!("swap elements {i} and {j} of {}", show(&path)),
                at: path,
            }
        }
        Change::AddMember(i, name, value) => {
            let obj_path = i.get(&inv.objects).clone();
            let Value::Object(m) = get_mut(&mut doc, &obj_path) else {
                unreachable!()
            };
            let name = fresh_name(m, name);
            m.insert(name.clone(), value.clone());
            let mut at = obj_path.clone();
            at.push(Seg::Key(name));
            Applied {
                doc,
                what: format!("add member {} = {value}", show(&at)),
                at,
            }
        }
        Change::RemoveMember(i) => {
            let (obj_path, key) = i.get(&inv.members).clone();
            let Value::Object(m) = get_mut(&mut doc, &obj_path) else {
                unreachable!()
            };
            m.shift_remove(&key);
            let mut at = obj_path.clone();
            at.push(Seg::Key(key));
            Applied {
                doc,
                what: format!("remove member {}", show(&at)),
                at,
            }
        }
        Change::FlipProofValue(p, c) => {
            let pv = doc["proof"]["proofValue"].as_str().unwrap().to_owned();
            let mut chars: Vec<char> = pv.chars().collect();
            let p = p.index(chars.len());
            let choices: Vec<char> = BASE58.chars().filter(|&x| x != chars[p]).collect();
            chars[p] = *c.get(&choices);
            let flipped: String = chars.into_iter().collect();
            let what = format!("proofValue char {p}: {pv} -> {flipped}");
            doc["proof"]["proofValue"] = flipped.into();
            Applied {
                doc,
                at: vec![Seg::Key("proof".into()), Seg::Key("proofValue".into())],
                what,
            }
        }
    };
    Some(applied)
}

/// Checks that a changed credential is rejected, and for changes to the document (not the
/// proof) that the signature check is what catches it, unless the change broke the
/// credential's shape (well-formed fails first) or its `@context` (the proof's `@context` must
/// be a prefix of the document's, so the proof check fails first).
fn assert_rejected(applied: &Applied, report: &Report) -> Result<(), TestCaseError> {
    let ctx = || format!("{}\nreport: {report:#?}", applied.what);
    prop_assert_ne!(report.verdict, Verdict::Valid, "{}", ctx());
    prop_assert!(
        !outcomes(report, CheckKind::Signature).contains(&Outcome::Pass),
        "{}",
        ctx()
    );
    let in_proof = applied.at.first() == Some(&Seg::Key("proof".into()));
    if !in_proof {
        prop_assert_eq!(report.verdict, Verdict::Invalid, "{}", ctx());
        let signature_failed = outcomes(report, CheckKind::Signature) == [Outcome::Fail];
        let shape_failed = outcomes(report, CheckKind::WellFormed) == [Outcome::Fail];
        let context_failed = applied.at.first() == Some(&Seg::Key("@context".into()))
            && outcomes(report, CheckKind::Proof) == [Outcome::Fail];
        prop_assert!(
            signature_failed || shape_failed || context_failed,
            "{}",
            ctx()
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// re-serialization that JCS must not see

/// A tiny deterministic generator (splitmix64) for serialization choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn one_in(&mut self, n: usize) -> bool {
        n > 0 && self.below(n) == 0
    }
}

#[derive(Debug, Clone)]
struct Style {
    seed: u64,
    /// 0: none, 1: pretty, 2: random JSON whitespace between tokens.
    whitespace: u8,
    /// Escape non-ASCII characters as `\uXXXX` one time in this many (0: never).
    escape_non_ascii: usize,
    /// Escape plain ASCII characters as `\u00XX` one time in this many (0: never).
    escape_ascii: usize,
    /// Write numbers in other forms (`1.0`, `1e0`, `1E+0`, full decimal).
    number_forms: bool,
    /// Shuffle the members of every object.
    shuffle: bool,
}

fn style() -> impl Strategy<Value = Style> {
    (
        any::<u64>(),
        0u8..3,
        prop::sample::select(&[0usize, 1, 2, 5][..]),
        prop::sample::select(&[0usize, 4, 16][..]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(seed, whitespace, escape_non_ascii, escape_ascii, number_forms, shuffle)| Style {
                seed,
                whitespace,
                escape_non_ascii,
                escape_ascii,
                number_forms,
                shuffle,
            },
        )
}

/// An extra member to write into the object at `path`: a duplicate member name.
#[derive(Debug, Clone)]
struct Extra {
    path: Path,
    key: String,
    value: Value,
    position: Index,
}

struct Writer<'a> {
    style: &'a Style,
    rng: Rng,
    extra: Option<&'a Extra>,
    out: String,
    depth: usize,
}

impl<'a> Writer<'a> {
    fn write(value: &Value, style: &'a Style, extra: Option<&'a Extra>) -> String {
        let mut w = Writer {
            style,
            rng: Rng(style.seed),
            extra,
            out: String::new(),
            depth: 0,
        };
        w.ws();
        w.value(value, &mut Vec::new());
        w.ws();
        w.out
    }

    fn ws(&mut self) {
        match self.style.whitespace {
            1 => {}
            2 => {
                for _ in 0..self.rng.below(3) {
                    let c = [' ', '\t', '\n', '\r'][self.rng.below(4)];
                    self.out.push(c);
                }
            }
            _ => {}
        }
    }

    fn newline(&mut self) {
        if self.style.whitespace == 1 {
            self.out.push('\n');
            for _ in 0..self.depth {
                self.out.push_str("  ");
            }
        } else {
            self.ws();
        }
    }

    fn value(&mut self, v: &Value, path: &mut Path) {
        match v {
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => self.number(n),
            Value::String(s) => self.string(s),
            Value::Array(items) => {
                self.out.push('[');
                self.depth += 1;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline();
                    path.push(Seg::Idx(i));
                    self.value(item, path);
                    path.pop();
                    self.ws();
                }
                self.depth -= 1;
                if !items.is_empty() {
                    self.newline();
                }
                self.out.push(']');
            }
            Value::Object(m) => {
                let mut members: Vec<(&String, &Value)> = m.iter().collect();
                if self.style.shuffle {
                    for i in (1..members.len()).rev() {
                        let j = self.rng.below(i + 1);
                        members.swap(i, j);
                    }
                }
                if let Some(extra) = self.extra.filter(|e| e.path == *path) {
                    let at = extra.position.index(members.len() + 1);
                    members.insert(at, (&extra.key, &extra.value));
                }
                self.out.push('{');
                self.depth += 1;
                for (i, (k, child)) in members.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline();
                    self.string(k);
                    self.ws();
                    self.out.push(':');
                    if self.style.whitespace == 1 {
                        self.out.push(' ');
                    }
                    self.ws();
                    path.push(Seg::Key((*k).clone()));
                    self.value(child, path);
                    path.pop();
                    self.ws();
                }
                self.depth -= 1;
                if !members.is_empty() {
                    self.newline();
                }
                self.out.push('}');
            }
        }
    }

    fn unicode_escape(&mut self, unit: u16) {
        let s = if self.rng.one_in(2) {
            format!("\\u{unit:04x}")
        } else {
            format!("\\u{unit:04X}")
        };
        self.out.push_str(&s);
    }

    fn string(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            let short = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                '\u{8}' => Some("\\b"),
                '\u{c}' => Some("\\f"),
                '/' if self.rng.one_in(3) => Some("\\/"),
                _ => None,
            };
            if let Some(esc) = short {
                if self.rng.one_in(3) {
                    self.unicode_escape(c as u16);
                } else {
                    self.out.push_str(esc);
                }
            } else if (c as u32) < 0x20 {
                self.unicode_escape(c as u16);
            } else if c.is_ascii() {
                if self.rng.one_in(self.style.escape_ascii) {
                    self.unicode_escape(c as u16);
                } else {
                    self.out.push(c);
                }
            } else if self.rng.one_in(self.style.escape_non_ascii) {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    self.unicode_escape(*unit);
                }
            } else {
                self.out.push(c);
            }
        }
        self.out.push('"');
    }

    fn number(&mut self, n: &Number) {
        if !self.style.number_forms {
            self.out.push_str(&n.to_string());
            return;
        }
        let f = n.as_f64().unwrap();
        let text = match (n.as_i64(), n.as_u64(), self.rng.below(5)) {
            (Some(i), _, 0) => format!("{i}.0"),
            (Some(i), _, 1) => format!("{i}E+0"),
            (None, Some(u), 0) => format!("{u}.00"),
            (None, Some(u), 1) => format!("{u}e0"),
            (_, _, 2) => format!("{f:e}"),
            (_, _, 3) => format!("{f:E}"),
            (_, _, _) => format!("{f}"),
        };
        self.out.push_str(&text);
    }
}

// ---------------------------------------------------------------------------------------------
// properties

proptest! {
    #![proptest_config(config())]

    /// A signed credential verifies (from its bytes) as Valid at a time inside its validity.
    #[test]
    fn sign_then_verify_is_valid(credential in credential()) {
        let signed = sign_jcs(&credential);
        let bytes = serde_json::to_vec(&signed).unwrap();
        let report = verify_bytes(&bytes);
        prop_assert_eq!(report.verdict, Verdict::Valid, "{:#?}", report);
        prop_assert_eq!(outcomes(&report, CheckKind::Signature), vec![Outcome::Pass]);
        // Signing added exactly one member, `proof`, and changed nothing else.
        let mut unsecured = signed.as_object().unwrap().clone();
        prop_assert!(unsecured.shift_remove("proof").is_some());
        prop_assert_eq!(Value::Object(unsecured), credential);
    }

    /// Any single change to a signed credential makes it fail verification.
    #[test]
    fn any_single_change_is_rejected(signed in signed_credential(), changes in prop::collection::vec(change(), 1..6)) {
        for change in &changes {
            let Some(applied) = apply(&signed, change) else { continue };
            // The change is visible to JCS (it is not a re-serialization).
            prop_assert_ne!(canon(&applied.doc), canon(&signed), "{}", applied.what);
            let bytes = serde_json::to_vec(&applied.doc).unwrap();
            assert_rejected(&applied, &verify_bytes(&bytes))?;
        }
    }

    /// Removing any one member of the proof is rejected.
    #[test]
    fn removing_any_proof_member_is_rejected(signed in signed_credential()) {
        let members: Vec<String> = signed["proof"].as_object().unwrap().keys().cloned().collect();
        prop_assert_eq!(
            &members,
            &["type", "cryptosuite", "created", "verificationMethod", "proofPurpose", "@context", "proofValue"]
        );
        for name in &members {
            let mut doc = signed.clone();
            doc["proof"].as_object_mut().unwrap().shift_remove(name);
            let applied = Applied {
                doc,
                at: vec![Seg::Key("proof".into()), Seg::Key(name.clone())],
                what: format!("remove proof.{name}"),
            };
            let report = verify_bytes(&serde_json::to_vec(&applied.doc).unwrap());
            assert_rejected(&applied, &report)?;
        }
    }

    /// Flipping any one character of proofValue is rejected.
    #[test]
    fn flipping_a_proof_value_char_is_rejected(signed in signed_credential(), at in any::<Index>(), to in any::<Index>()) {
        let applied = apply(&signed, &Change::FlipProofValue(at, to)).unwrap();
        assert_rejected(&applied, &verify_bytes(&serde_json::to_vec(&applied.doc).unwrap()))?;
    }

    /// Re-serializing a signed credential (member order, whitespace, `\u` escapes, number
    /// spelling) changes nothing JCS sees: it still verifies from the new bytes.
    #[test]
    fn reserialized_credential_still_verifies(signed in signed_credential(), style in style()) {
        let text = Writer::write(&signed, &style, None);
        let reparsed = parse_strict(text.as_bytes());
        prop_assert!(reparsed.is_ok(), "{:?}\n{}", reparsed, text);
        prop_assert_eq!(canon(&reparsed.unwrap()), canon(&signed));
        let report = verify_bytes(text.as_bytes());
        prop_assert_eq!(report.verdict, Verdict::Valid, "{:#?}\n{}", report, text);
    }

    /// Canonicalization is a fixed point, and re-serialization does not change it.
    #[test]
    fn canonicalization_is_idempotent(value in json_any(), style in style()) {
        let once = canon(&value);
        let reparsed = parse_strict(once.as_bytes());
        prop_assert!(reparsed.is_ok(), "{:?}\n{}", reparsed, once);
        prop_assert_eq!(canon(&reparsed.unwrap()), once.clone());
        // The canonical form has no insignificant whitespace and equals serde_json's compact
        // form after re-parsing through serde_json's own parser.
        let loose: Value = serde_json::from_str(&once).unwrap();
        prop_assert_eq!(canon(&loose), once.clone());
        let text = Writer::write(&value, &style, None);
        let reparsed = parse_strict(text.as_bytes());
        prop_assert!(reparsed.is_ok(), "{:?}\n{}", reparsed, text);
        prop_assert_eq!(canon(&reparsed.unwrap()), once);
    }

    /// A duplicate member name anywhere (with the same or another value, spelled with or
    /// without escapes) makes the credential Invalid, with the well-formed check failing.
    #[test]
    fn duplicate_member_names_are_invalid(
        signed in signed_credential(),
        style in style(),
        object in any::<Index>(),
        member in any::<Index>(),
        position in any::<Index>(),
        same_value in any::<bool>(),
        other in json_any(),
    ) {
        let inv = inventory(&signed);
        let candidates: Vec<&Path> = inv.objects.iter().filter(|p| get(&signed, p).as_object().is_some_and(|m| !m.is_empty())).collect();
        let path = (*object.get(&candidates)).clone();
        let m = get(&signed, &path).as_object().unwrap();
        let (key, value) = *member.get(&m.iter().collect::<Vec<_>>());
        let extra = Extra {
            path: path.clone(),
            key: key.clone(),
            value: if same_value { value.clone() } else { other },
            position,
        };
        let text = Writer::write(&signed, &style, Some(&extra));
        let report = verify_bytes(text.as_bytes());
        let ctx = format!("duplicate {:?} in {}\n{}\n{:#?}", key, show(&path), text, report);
        prop_assert_eq!(report.verdict, Verdict::Invalid, "{}", ctx);
        prop_assert_eq!(outcomes(&report, CheckKind::WellFormed), vec![Outcome::Fail], "{}", ctx);
        prop_assert_eq!(report.checks.len(), 7, "{}", ctx);
    }

    /// parse_strict and verify never panic on arbitrary bytes.
    #[test]
    fn no_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_strict(&bytes);
        let report = verify_bytes(&bytes);
        prop_assert_ne!(report.verdict, Verdict::Valid);
    }

    /// ... nor on JSON-like token soup (more likely to get deep into the parser).
    #[test]
    fn no_panic_on_token_soup(tokens in prop::collection::vec(prop::sample::select(&[
        "{", "}", "[", "]", ":", ",", "\"", "\\", "\\u", "d83d", "\\ud800", "\\udc00", "0", "-",
        "1e999", "-0", "1.5e-400", "true", "null", " ", "é", "\u{0}", "\"proof\"", "\"@context\"",
        "\"type\"", "\"issuer\"", "\"proofValue\"", "\"z\"", "99999999999999999999999",
    ][..]), 0..64)) {
        let bytes = tokens.concat().into_bytes();
        let _ = parse_strict(&bytes);
        let _ = verify_bytes(&bytes);
    }

    /// verify and verify_value never panic on arbitrary JSON, or on a signed credential with
    /// any part replaced by arbitrary JSON.
    #[test]
    fn no_panic_on_arbitrary_json(value in json_any(), signed in signed_credential(), at in any::<Index>(), part in json_any()) {
        let _ = verify_bytes(&serde_json::to_vec(&value).unwrap());
        let _ = verify_value(&value, &VerifyOptions::new(AT, keyring()));
        let inv = inventory(&signed);
        let path = at.get(&inv.all).clone();
        let mut doc = signed.clone();
        *get_mut(&mut doc, &path) = part;
        let report = verify_bytes(&serde_json::to_vec(&doc).unwrap());
        if canon(&doc) != canon(&signed) {
            prop_assert_ne!(report.verdict, Verdict::Valid, "replaced {}\n{:#?}", show(&path), report);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// documented behaviour at the edges (not properties, but they explain the exclusions above)

/// vc-di-eddsa (eddsa-jcs-2022 Verify Proof, step 4) replaces the document's `@context` by the
/// proof's before hashing, after checking it is a prefix. So contexts *appended* to the
/// document's `@context` after signing are not covered by the signature. This is the
/// specified behaviour, which is why "append an array element to @context" is not among the
/// tamper properties.
#[test]
fn appended_context_is_not_covered_by_the_signature_per_spec() {
    let mut credential = json!({
        "@context": [VC_V2_CONTEXT, OB_CONTEXT],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000000",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": key().controller(), "type": ["Profile"], "name": "College"},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {"id": "https://c.example/a", "type": ["Achievement"], "name": "A", "description": "d", "criteria": {"narrative": "n"}}}
    });
    let mut signed = sign_jcs(&credential);
    signed["@context"]
        .as_array_mut()
        .unwrap()
        .push("https://attacker.example/context.json".into());
    let report = verify_bytes(&serde_json::to_vec(&signed).unwrap());
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    // Inserting before the proof's contexts, or changing one, is caught.
    credential["@context"]
        .as_array_mut()
        .unwrap()
        .insert(1, "https://attacker.example/context.json".into());
    let mut signed = sign_jcs(&credential);
    signed["@context"].as_array_mut().unwrap().remove(1);
    let report = verify_bytes(&serde_json::to_vec(&signed).unwrap());
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
}

/// JCS reads every number as an IEEE-754 double (RFC 8785 §3.2.2.3), so two integers beyond
/// 2^53 that round to the same double have the same canonical form: changing one into the other
/// is invisible to the signature. Such changes are excluded from the tamper properties.
#[test]
fn integers_beyond_2_pow_53_that_round_alike_are_jcs_equal() {
    let a = json!({"n": 9_007_199_254_740_993u64});
    let b = json!({"n": 9_007_199_254_740_992u64});
    assert_ne!(a, b);
    assert_eq!(canon(&a), canon(&b));
    assert_eq!(canon(&a), r#"{"n":9007199254740992}"#);
}

// ---------------------------------------------------------------------------------------------
// eddsa-rdfc-2022
//
// The same kind of credential, restricted to terms the VC 2.0 and OB 3.0.3 contexts define
// (safe mode refuses anything else), signed with eddsa-rdfc-2022. What the signature covers is
// the RDF graph, not the JSON: a change of a value, a removed member or an added defined member
// changes the graph; member order, whitespace, escapes, number spelling, the order of array
// elements (RDF sets) and one-element arrays versus plain values do not.
//
// Signing and verifying through JSON-LD is slower than JCS in a debug build, so these run
// fewer cases by default (PROPTEST_CASES overrides both).

fn rdfc_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48);
    ProptestConfig {
        cases,
        max_shrink_iters: 128,
        ..ProptestConfig::default()
    }
}

fn sign_rdfc(credential: &Value) -> Value {
    sign(credential, key(), Cryptosuite::EddsaRdfc2022, CREATED)
        .unwrap_or_else(|e| panic!("{e}\n{credential:#}"))
}

/// Literal text: never empty (an empty string is still a literal, but it makes "append a
/// character" and "replace" collide less often with other cases) and mostly non-ASCII.
fn rdfc_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => text(),
        2 => "[a-zàâçéèêëîïôûùüÿñæœß ]{1,20}",
        2 => "[\u{3040}-\u{30ff}\u{4e00}-\u{4e80}]{1,10}",
        1 => "[αβγδεζηθικλμνξοπρστυφχψω ]{1,12}",
        1 => "[😀-😏🎓👩\u{200d} ]{1,6}",
    ]
    .prop_map(|s| if s.is_empty() { "∅".to_owned() } else { s })
    .boxed()
}

/// Distinct values only: in RDF a repeated value is one triple.
fn distinct(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in items {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// A number OB 3.0 types as xsd:float (integers and a few exact fractions).
fn credits() -> BoxedStrategy<Value> {
    prop_oneof![
        (0u32..400).prop_map(Value::from),
        (0u32..400).prop_map(|n| Value::from(f64::from(n) / 4.0)),
    ]
    .boxed()
}

fn rdfc_achievement() -> impl Strategy<Value = Value> {
    let core = (
        "https://[a-z]{3,10}\\.example/achievements/[a-z0-9-]{1,16}",
        rdfc_text(),
        rdfc_text(),
        rdfc_text(),
        prop::option::of(prop::sample::select(
            &["MicroCredential", "Course", "Certificate", "Badge"][..],
        )),
    );
    let alignment = (
        rdfc_text(),
        https_url(),
        prop::option::of("[A-Z]{2,4}-[0-9]{3}"),
        prop::option::of(rdfc_text()),
    );
    let optional = (
        prop::option::of(prop::collection::vec(rdfc_text(), 1..5)),
        prop::option::of(prop::collection::vec(alignment, 1..4)),
        prop::option::of(credits()),
        prop::option::of(rdfc_text()),
        prop::option::of(prop::sample::select(&["en", "fr-CA", "ja", "de"][..])),
    );
    (core, optional).prop_map(
        |((id, name, description, narrative, kind), (tags, alignments, credits, field, lang))| {
            let mut a = Map::new();
            a.insert("id".into(), id.into());
            a.insert("type".into(), json!(["Achievement"]));
            if let Some(kind) = kind {
                a.insert("achievementType".into(), kind.into());
            }
            a.insert("name".into(), name.into());
            a.insert("description".into(), description.into());
            a.insert("criteria".into(), json!({ "narrative": narrative }));
            if let Some(tags) = tags {
                a.insert("tag".into(), json!(distinct(tags)));
            }
            if let Some(alignments) = alignments {
                let mut seen = Vec::new();
                let items: Vec<Value> = alignments
                    .into_iter()
                    .filter(|(name, ..)| {
                        let fresh = !seen.contains(name);
                        seen.push(name.clone());
                        fresh
                    })
                    .map(|(name, url, code, framework)| {
                        let mut o =
                            json!({"type": ["Alignment"], "targetName": name, "targetUrl": url});
                        if let Some(code) = code {
                            o["targetCode"] = code.into();
                        }
                        if let Some(framework) = framework {
                            o["targetFramework"] = framework.into();
                        }
                        o
                    })
                    .collect();
                a.insert("alignment".into(), Value::Array(items));
            }
            if let Some(credits) = credits {
                a.insert("creditsAvailable".into(), credits);
            }
            if let Some(field) = field {
                a.insert("fieldOfStudy".into(), field.into());
            }
            if let Some(lang) = lang {
                a.insert("inLanguage".into(), lang.into());
            }
            Value::Object(a)
        },
    )
}

/// An unsigned OB 3.0 credential issued by `key()` that uses only defined terms.
fn rdfc_credential() -> impl Strategy<Value = Value> {
    let head = (
        "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        prop::option::of(rdfc_text()),
        prop::option::of(rdfc_text()),
        (
            rdfc_text(),
            prop::option::of(https_url()),
            prop::option::of("[a-z]{1,8}@[a-z]{3,8}\\.example"),
            prop::option::of(rdfc_text()),
            any::<bool>(),
        ),
    );
    let subject = (
        prop::option::of("did:example:[a-z0-9]{1,16}"),
        rdfc_achievement(),
        prop::option::of(credits()),
    );
    let dates = (0i64..2000, prop::option::of(1i64..4000), any::<bool>());
    let evidence = prop::option::of(prop::collection::vec((https_url(), rdfc_text()), 1..3));
    (head, subject, dates, evidence).prop_map(
        |(
            (uuid, name, description, (issuer_name, url, email, issuer_desc, single_type)),
            (subject_id, achievement, earned),
            (from_days, until_days, awarded),
            evidence,
        )| {
            let mut issuer = Map::new();
            issuer.insert("id".into(), key().controller().into());
            issuer.insert(
                "type".into(),
                if single_type {
                    json!("Profile")
                } else {
                    json!(["Profile"])
                },
            );
            issuer.insert("name".into(), issuer_name.into());
            if let Some(url) = url {
                issuer.insert("url".into(), url.into());
            }
            if let Some(email) = email {
                issuer.insert("email".into(), email.into());
            }
            if let Some(d) = issuer_desc {
                issuer.insert("description".into(), d.into());
            }
            let mut c = Map::new();
            c.insert("@context".into(), json!([VC_V2_CONTEXT, OB_CONTEXT]));
            c.insert("id".into(), format!("urn:uuid:{uuid}").into());
            c.insert(
                "type".into(),
                json!(["VerifiableCredential", "OpenBadgeCredential"]),
            );
            if let Some(name) = name {
                c.insert("name".into(), name.into());
            }
            if let Some(d) = description {
                c.insert("description".into(), d.into());
            }
            c.insert("issuer".into(), Value::Object(issuer));
            let from = AT - Duration::days(from_days) - Duration::seconds(1);
            c.insert("validFrom".into(), format_datetime(from).into());
            if let Some(days) = until_days {
                c.insert(
                    "validUntil".into(),
                    format_datetime(AT + Duration::days(days)).into(),
                );
            }
            if awarded {
                c.insert("awardedDate".into(), format_datetime(from).into());
            }
            let mut subject = Map::new();
            if let Some(id) = subject_id {
                subject.insert("id".into(), id.into());
            }
            subject.insert("type".into(), json!(["AchievementSubject"]));
            subject.insert("achievement".into(), achievement);
            if let Some(earned) = earned {
                subject.insert("creditsEarned".into(), earned);
            }
            c.insert("credentialSubject".into(), Value::Object(subject));
            if let Some(evidence) = evidence {
                let mut seen = Vec::new();
                let items: Vec<Value> = evidence
                    .into_iter()
                    .filter(|(id, _)| {
                        let fresh = !seen.contains(id);
                        seen.push(id.clone());
                        fresh
                    })
                    .map(|(id, narrative)| {
                        json!({"id": id, "type": ["Evidence"], "narrative": narrative})
                    })
                    .collect();
                c.insert("evidence".into(), Value::Array(items));
            }
            Value::Object(c)
        },
    )
}

fn rdfc_signed() -> impl Strategy<Value = Value> {
    rdfc_credential().prop_map(|c| sign_rdfc(&c))
}

/// Members the contexts define for the object at `path` (by what it is), with a value.
fn defined_additions(path: &[Seg]) -> Vec<(&'static str, Value)> {
    let keys: Vec<&str> = path
        .iter()
        .map(|s| match s {
            Seg::Key(k) => k.as_str(),
            Seg::Idx(_) => "[]",
        })
        .collect();
    let far = json!(format_datetime(AT + Duration::days(9000)));
    match keys.as_slice() {
        [] => vec![
            ("description", json!("ajouté après la signature")),
            (
                "awardedDate",
                json!(format_datetime(AT - Duration::days(1))),
            ),
            ("validUntil", far.clone()),
        ],
        ["issuer"] => vec![
            ("email", json!("registrar@college.example")),
            ("phone", json!("+1 555 0100")),
            ("description", json!("追加")),
            ("url", json!("https://college.example/")),
        ],
        ["credentialSubject"] => vec![
            ("creditsEarned", json!(5)),
            ("term", json!("Automne 2025")),
            ("role", json!("Étudiante")),
        ],
        ["credentialSubject", "achievement"] => vec![
            ("humanCode", json!("STAT-101")),
            ("fieldOfStudy", json!("Statistik")),
            ("specialization", json!("Bayes")),
            ("version", json!("2")),
            ("tag", json!(["ajout"])),
            ("creditsAvailable", json!(2.5)),
        ],
        ["credentialSubject", "achievement", "criteria"] => {
            vec![("id", json!("https://college.example/criteria/1"))]
        }
        ["credentialSubject", "achievement", "alignment", "[]"] => vec![
            ("targetCode", json!("X-999")),
            ("targetDescription", json!("Beschreibung")),
            ("targetType", json!("CFItem")),
        ],
        ["evidence", "[]"] => vec![
            ("name", json!("Portfolio")),
            ("genre", json!("Projet")),
            ("audience", json!("Öffentlichkeit")),
        ],
        ["proof"] => vec![
            ("expires", far),
            ("domain", json!("https://verifier.example")),
            ("nonce", json!("n-0123")),
        ],
        _ => Vec::new(),
    }
}

#[derive(Debug, Clone)]
enum RdfcChange {
    /// Change one scalar: text gets a character appended, a number grows by one.
    Leaf(Index, Index),
    /// Remove one member anywhere.
    Remove(Index),
    /// Add one member the contexts define, where it is absent.
    Add(Index),
}

fn rdfc_change() -> impl Strategy<Value = RdfcChange> {
    prop_oneof![
        (any::<Index>(), any::<Index>()).prop_map(|(i, s)| RdfcChange::Leaf(i, s)),
        any::<Index>().prop_map(RdfcChange::Remove),
        any::<Index>().prop_map(RdfcChange::Add),
    ]
}

/// Appended to text: each is a different character, none occurs in a generated IRI.
const SUFFIXES: &[&str] = &["·", "é", "😀", " ", "\u{200b}", "x"];

fn apply_rdfc(signed: &Value, change: &RdfcChange) -> Option<Applied> {
    let inv = inventory(signed);
    let mut doc = signed.clone();
    match change {
        RdfcChange::Leaf(i, s) => {
            let scalars: Vec<&Path> = inv
                .leaves
                .iter()
                .filter(|p| !get(signed, p).is_array() && !get(signed, p).is_object())
                .collect();
            let path = (*i.get(&scalars)).clone();
            let old = get(&doc, &path).clone();
            let new = match &old {
                Value::String(text) => Value::String(format!("{text}{}", s.get(SUFFIXES))),
                Value::Number(n) => {
                    let f = n.as_f64().unwrap();
                    match n.as_u64() {
                        Some(u) => Value::from(u + 1),
                        None => Value::from(f + 1.0),
                    }
                }
                Value::Bool(b) => Value::Bool(!b),
                Value::Null | Value::Array(_) | Value::Object(_) => unreachable!(),
            };
            let what = format!("change {} from {old} to {new}", show(&path));
            *get_mut(&mut doc, &path) = new;
            Some(Applied {
                doc,
                at: path,
                what,
            })
        }
        RdfcChange::Remove(i) => {
            let (obj_path, key) = i.get(&inv.members).clone();
            let Value::Object(m) = get_mut(&mut doc, &obj_path) else {
                unreachable!()
            };
            m.shift_remove(&key);
            let mut at = obj_path;
            at.push(Seg::Key(key));
            Some(Applied {
                doc,
                what: format!("remove member {}", show(&at)),
                at,
            })
        }
        RdfcChange::Add(i) => {
            let places: Vec<(Path, &'static str, Value)> = inv
                .objects
                .iter()
                .flat_map(|p| {
                    let m = get(signed, p).as_object().unwrap();
                    defined_additions(p)
                        .into_iter()
                        .filter(|(k, _)| !m.contains_key(*k))
                        .map(|(k, v)| (p.clone(), k, v))
                        .collect::<Vec<_>>()
                })
                .collect();
            let (obj_path, key, value) = i.get(&places).clone();
            let Value::Object(m) = get_mut(&mut doc, &obj_path) else {
                unreachable!()
            };
            m.insert(key.to_owned(), value.clone());
            let mut at = obj_path;
            at.push(Seg::Key(key.to_owned()));
            Some(Applied {
                doc,
                what: format!("add member {} = {value}", show(&at)),
                at,
            })
        }
    }
}

/// Every array that is an RDF set (not `@context`, whose order matters): (path, length).
fn set_arrays(v: &Value) -> Vec<(Path, usize)> {
    inventory(v)
        .swappable
        .into_iter()
        .filter(|p| p.last() != Some(&Seg::Key("@context".into())))
        .map(|p| {
            let n = get(v, &p).as_array().unwrap().len();
            (p, n)
        })
        .collect()
}

proptest! {
    #![proptest_config(rdfc_config())]

    /// A signed credential verifies (from its bytes) as Valid, and signing added only `proof`.
    #[test]
    fn rdfc_sign_then_verify_is_valid(credential in rdfc_credential()) {
        let signed = sign_rdfc(&credential);
        prop_assert_eq!(signed["proof"]["cryptosuite"].as_str(), Some("eddsa-rdfc-2022"));
        prop_assert!(signed["proof"].get("@context").is_none());
        let report = verify_bytes(&serde_json::to_vec(&signed).unwrap());
        prop_assert_eq!(report.verdict, Verdict::Valid, "{:#?}", report);
        let mut unsecured = signed.as_object().unwrap().clone();
        prop_assert!(unsecured.shift_remove("proof").is_some());
        prop_assert_eq!(Value::Object(unsecured), credential);
    }

    /// Any single change of a value, removal of a member or addition of a defined member, in
    /// the credential or its proof, is not Valid; in the credential, it is Invalid.
    #[test]
    fn rdfc_any_single_change_is_rejected(signed in rdfc_signed(), changes in prop::collection::vec(rdfc_change(), 1..5)) {
        for change in &changes {
            let Some(applied) = apply_rdfc(&signed, change) else { continue };
            let report = verify_bytes(&serde_json::to_vec(&applied.doc).unwrap());
            let ctx = || format!("{}\n{:#?}", applied.what, report);
            prop_assert_ne!(report.verdict, Verdict::Valid, "{}", ctx());
            prop_assert!(!outcomes(&report, CheckKind::Signature).contains(&Outcome::Pass), "{}", ctx());
            let in_proof = applied.at.first() == Some(&Seg::Key("proof".into()));
            let in_context = applied.at.first() == Some(&Seg::Key("@context".into()));
            if !in_proof && !in_context {
                prop_assert_eq!(report.verdict, Verdict::Invalid, "{}", ctx());
            }
        }
    }

    /// Re-serializing (member order, whitespace, `\u` escapes, number spelling) changes nothing
    /// the signature covers.
    #[test]
    fn rdfc_reserialized_credential_still_verifies(signed in rdfc_signed(), style in style()) {
        let text = Writer::write(&signed, &style, None);
        let report = verify_bytes(text.as_bytes());
        prop_assert_eq!(report.verdict, Verdict::Valid, "{:#?}\n{}", report, text);
    }

    /// Neither does reordering the elements of arrays (RDF sets), or writing a one-element array
    /// as its element: rdfc signs the graph, not the JSON.
    #[test]
    fn rdfc_graph_preserving_json_changes_still_verify(signed in rdfc_signed(), which in any::<Index>(), seed in any::<u64>()) {
        let mut doc = signed.clone();
        let sets = set_arrays(&signed);
        let what = if sets.is_empty() {
            String::from("(no multi-element arrays)")
        } else {
            let (path, n) = which.get(&sets).clone();
            let Value::Array(items) = get_mut(&mut doc, &path) else { unreachable!() };
            items.rotate_left(1 + (seed as usize) % (n - 1));
            format!("rotate {}", show(&path))
        };
        // ["Profile"] <-> "Profile", ["Achievement"] -> "Achievement".
        let issuer_type = doc["issuer"]["type"].clone();
        doc["issuer"]["type"] = match issuer_type {
            Value::Array(mut a) if a.len() == 1 => a.remove(0),
            Value::String(s) => json!([s]),
            other => other,
        };
        doc["credentialSubject"]["achievement"]["type"] = json!("Achievement");
        prop_assert_ne!(canon(&doc), canon(&signed));
        let report = verify_bytes(&serde_json::to_vec(&doc).unwrap());
        prop_assert_eq!(report.verdict, Verdict::Valid, "{}\n{:#?}", what, report);
    }
}
