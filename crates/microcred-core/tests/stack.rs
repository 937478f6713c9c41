//! Stacking (`check_stack`): the Digital Fluency series of `examples/achievements` — DF-101,
//! DF-102 and DF-103 stack into the Digital Fluency Certificate (all three, within P3Y) —
//! issued through the core's issuance path and verified like any credential, then checked as
//! a stack: valid; and refused, with the reason on the requirement it concerns, for a
//! missing part, a different learner, an expired window, a revoked or tampered component,
//! an external issuer the verifier does not recognise, and a certificate whose rule is
//! malformed. Also: n-of-m and credit rules, hashed e-mail recipients compared through the
//! address the checker knows, digests pinned by the certificate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::series::*;
use microcred_core::{
    check_stack, status_list_credential, Achievement, Bitstring, Component, CredentialTemplate,
    Cryptosuite, KnownIdentity, LintOptions, Outcome, Profile, Report, StackCheckKind, StackReport,
    StackingRequirement, StatusEntry, StatusListCredential, TrustList, TrustedIssuer, Verdict,
    MIN_STATUS_LIST_ENTRIES,
};
use serde_json::{json, Value};
use time::macros::datetime;

fn stack_of(cert: &[u8], parts: &[Vec<u8>], trust: Option<&TrustList>) -> StackReport {
    stack_with(cert, parts, trust, &[], &[])
}

fn stack_with(
    cert: &[u8],
    parts: &[Vec<u8>],
    trust: Option<&TrustList>,
    lists: &[StatusListCredential],
    learner: &[KnownIdentity],
) -> StackReport {
    let cert = verified(cert.to_vec(), trust, lists);
    assert_eq!(cert.report.verdict, Verdict::Valid, "{:#?}", cert.report);
    let parts: Vec<Checked> = parts
        .iter()
        .map(|p| verified(p.clone(), trust, lists))
        .collect();
    let components: Vec<Component<'_>> = parts
        .iter()
        .map(|c| Component {
            credential: &c.value,
            bytes: Some(&c.bytes),
            report: &c.report,
        })
        .collect();
    check_stack(&cert.value, &cert.report, &components, learner)
}

fn outcome(r: &StackReport, kind: StackCheckKind) -> (Outcome, String) {
    let c = r
        .checks
        .iter()
        .find(|c| c.check == kind)
        .unwrap_or_else(|| panic!("no {kind:?} check: {r:#?}"));
    (c.outcome, c.reason.clone())
}

#[test]
fn the_series_stacks_into_the_certificate() {
    let parts = three();
    let cert = certificate_for(&parts);
    let r = stack_of(&cert, &parts, None);
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert_eq!(
        r.rule_text.as_deref(),
        Some("all 3 of the required achievements, awarded within P3Y")
    );
    assert_eq!(r.requirements.len(), 3);
    for (req, part) in r.requirements.iter().zip(&parts) {
        let v: Value = serde_json::from_slice(part).unwrap();
        assert_eq!(req.satisfied_by.as_deref(), v["id"].as_str(), "{req:?}");
        assert!(req.name.is_some());
    }
    assert!(r.components.iter().all(|c| c.counted));
    assert_eq!(outcome(&r, StackCheckKind::Evidence).0, Outcome::Pass);
    assert_eq!(outcome(&r, StackCheckKind::Window).0, Outcome::Pass);
    // The report serializes for `--json`.
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["verdict"], "valid");
    assert_eq!(
        j["requirements"][0]["satisfiedBy"],
        json!(r.requirements[0].satisfied_by)
    );
}

#[test]
fn a_missing_part_is_named() {
    let parts = three();
    let cert = certificate_for(&parts);
    let r = stack_of(&cert, &parts[..2], None);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(outcome(&r, StackCheckKind::Count).0, Outcome::Fail);
    let missing = &r.requirements[2];
    assert!(missing.achievement.ends_with("/df-103"));
    assert_eq!(missing.satisfied_by, None);
    assert!(
        missing.reason.contains("no credential given"),
        "{}",
        missing.reason
    );
}

#[test]
fn a_different_learner_fails() {
    let mut parts = three();
    parts[1] = issue(
        &northbridge(),
        read("achievements/df-102.json"),
        "did:example:someone-else",
        "2025-03-28T17:00:00Z",
        json!({}),
    );
    let cert = certificate_for(&three());
    let r = stack_of(&cert, &parts, None);
    assert_eq!(r.verdict, Verdict::Invalid);
    let (o, why) = outcome(&r, StackCheckKind::Learner);
    assert_eq!(o, Outcome::Fail, "{why}");
    assert!(r.components[1].reason.contains("different learner"));
    assert!(r.requirements[1].reason.contains("different learner"));
}

#[test]
fn components_outside_the_window_fail() {
    let parts = vec![
        component("df-101", "2021-02-21T17:00:00Z"),
        component("df-102", "2025-03-28T17:00:00Z"),
        component("df-103", "2025-05-02T17:00:00Z"),
    ];
    let cert = certificate_for(&parts);
    let r = stack_of(&cert, &parts, None);
    assert_eq!(r.verdict, Verdict::Invalid, "{r:#?}");
    let (o, why) = outcome(&r, StackCheckKind::Window);
    assert_eq!(o, Outcome::Fail);
    assert!(why.contains("P3Y"), "{why}");
    assert_eq!(outcome(&r, StackCheckKind::Count).0, Outcome::Fail);
    // Exactly three years apart is within P3Y (calendar arithmetic).
    let parts = vec![
        component("df-101", "2022-05-02T17:00:00Z"),
        component("df-102", "2024-03-28T17:00:00Z"),
        component("df-103", "2025-05-02T17:00:00Z"),
    ];
    let cert = certificate_for(&parts);
    assert_eq!(stack_of(&cert, &parts, None).verdict, Verdict::Valid);
}

#[test]
fn a_tampered_component_does_not_count() {
    let mut parts = three();
    let cert = certificate_for(&parts);
    let text = String::from_utf8(parts[2].clone()).unwrap();
    parts[2] = text
        .replace("2025-05-02T17:00:00Z", "2025-05-01T17:00:00Z")
        .into_bytes();
    let r = stack_of(&cert, &parts, None);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(!r.components[2].counted);
    assert!(
        r.components[2].reason.contains("does not verify"),
        "{}",
        r.components[2].reason
    );
}

#[test]
fn a_revoked_component_does_not_count() {
    let key = northbridge();
    let status = StatusEntry::new(LIST, "revocation", 42).to_value();
    let mut parts = three();
    parts[0] = issue(
        &key,
        read("achievements/df-101.json"),
        LEARNER,
        "2025-02-21T17:00:00Z",
        json!({ "credentialStatus": status }),
    );
    let cert = certificate_for(&parts);
    let list = |set: &[u64]| {
        let mut bits = Bitstring::new(MIN_STATUS_LIST_ENTRIES).unwrap();
        for i in set {
            bits.set(*i, true).unwrap();
        }
        let unsigned = status_list_credential(
            LIST,
            key.controller(),
            "revocation",
            &bits,
            datetime!(2025-12-01 00:00 UTC),
            Some(60_000),
        );
        let signed = microcred_core::sign(
            &unsigned,
            &key,
            Cryptosuite::DEFAULT,
            datetime!(2025-12-01 00:00 UTC),
        )
        .unwrap();
        StatusListCredential::from_value(signed)
            .unwrap()
            .fetched_from(LIST)
            .captured_at(datetime!(2026-01-15 11:00 UTC))
    };
    let fine = stack_with(&cert, &parts, None, &[list(&[])], &[]);
    assert_eq!(fine.verdict, Verdict::Valid, "{fine:#?}");
    let r = stack_with(&cert, &parts, None, &[list(&[42])], &[]);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(!r.components[0].counted);
    assert!(
        r.requirements[0].reason.contains("revoked"),
        "{}",
        r.requirements[0].reason
    );
}

#[test]
fn an_external_issuer_counts_only_when_recognised() {
    let mut parts = three();
    parts[1] = issue(
        &lakeshore(),
        read("achievements/df-102.json"),
        LEARNER,
        "2025-03-28T17:00:00Z",
        json!({}),
    );
    let cert = certificate_for(&parts);
    let r = stack_of(&cert, &parts, None);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(
        r.components[1].reason.contains("trust list"),
        "{}",
        r.components[1].reason
    );
    let trust = TrustList::new(vec![
        TrustedIssuer {
            name: "Lakeshore College".into(),
            id: lakeshore().controller().into(),
            keys: vec![],
        },
        TrustedIssuer {
            name: "Northbridge College".into(),
            id: northbridge().controller().into(),
            keys: vec![],
        },
    ]);
    let r = stack_of(&cert, &parts, Some(&trust));
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
}

#[test]
fn pinned_digests_are_checked() {
    let parts = three();
    let cert = certificate_for(&parts);
    // Same content, other bytes (re-serialized pretty): the proof still verifies, the pin
    // does not match.
    let mut other = parts.clone();
    let v: Value = serde_json::from_slice(&parts[0]).unwrap();
    other[0] = serde_json::to_vec_pretty(&v).unwrap();
    let r = stack_of(&cert, &other, None);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(
        r.components[0].reason.contains("digestSRI"),
        "{}",
        r.components[0].reason
    );
}

#[test]
fn n_of_m_and_credits() {
    let mut achievement = df_certificate();
    achievement["stackingRequirement"]["minimumRequired"] = json!(2);
    achievement["stackingRequirement"]["minimumCredits"] = json!(2);
    let parts = three();
    let refs: Vec<&[u8]> = parts[..2].iter().map(Vec::as_slice).collect();
    let cert = certificate(achievement.clone(), &refs, "2025-05-23T17:00:00Z");
    let r = stack_of(&cert, &parts[..2], None);
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert_eq!(
        r.rule_text.as_deref(),
        Some("2 of the 3 required achievements, at least 2 credits, awarded within P3Y")
    );
    assert_eq!(outcome(&r, StackCheckKind::Credits).0, Outcome::Pass);
    // Each component is worth 1 credit: three are needed for 3.
    achievement["stackingRequirement"]["minimumCredits"] = json!(3);
    let cert = certificate(achievement, &refs, "2025-05-23T17:00:00Z");
    let r = stack_of(&cert, &parts[..2], None);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(outcome(&r, StackCheckKind::Credits).0, Outcome::Fail);
}

#[test]
fn hashed_e_mail_recipients_are_compared_through_the_address() {
    let email = "amara.okafor@example.org";
    // A salt per credential, as the service makes them: the hashes differ.
    let by_mail = |achievement: Value, at: &str, salt: &str| {
        issue_salted(&northbridge(), achievement, email, at, json!({}), salt)
    };
    let parts = vec![
        by_mail(
            read("achievements/df-101.json"),
            "2025-02-21T17:00:00Z",
            "5a1t-a",
        ),
        by_mail(
            read("achievements/df-102.json"),
            "2025-03-28T17:00:00Z",
            "5a1t-b",
        ),
        by_mail(
            read("achievements/df-103.json"),
            "2025-05-02T17:00:00Z",
            "5a1t-c",
        ),
    ];
    let cert = by_mail(df_certificate(), "2025-05-23T17:00:00Z", "5a1t-d");
    let r = stack_of(&cert, &parts, None);
    assert_eq!(r.verdict, Verdict::Indeterminate, "{r:#?}");
    let (o, why) = outcome(&r, StackCheckKind::Learner);
    assert_eq!(o, Outcome::Unknown);
    assert!(why.contains("e-mail"), "{why}");
    let known = |value: &str| {
        [KnownIdentity {
            identity_type: "emailAddress".into(),
            value: value.into(),
        }]
    };
    let r = stack_with(&cert, &parts, None, &[], &known(email));
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    // An address that is not the stacked credential's decides nothing.
    let r = stack_with(&cert, &parts, None, &[], &known("someone.else@example.org"));
    assert_eq!(r.verdict, Verdict::Indeterminate);
    // A component to another address, with the learner's address known: another learner.
    let mut mixed = parts.clone();
    mixed[2] = issue_salted(
        &northbridge(),
        read("achievements/df-103.json"),
        "someone.else@example.org",
        "2025-05-02T17:00:00Z",
        json!({}),
        "5a1t-e",
    );
    let r = stack_with(&cert, &mixed, None, &[], &known(email));
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(outcome(&r, StackCheckKind::Learner).0, Outcome::Fail);
}

#[test]
fn malformed_rules_are_refused_with_a_reason() {
    for (rule, needle) in [
        (json!({"requiredAchievement": []}), "empty"),
        (json!({"requiredAchievement": ["not an iri"]}), "IRI"),
        (
            json!({"requiredAchievement": ["https://a.example/1", "https://a.example/1"]}),
            "twice",
        ),
        (
            json!({"requiredAchievement": ["https://a.example/1"], "minimumRequired": 2}),
            "from 1 to 1",
        ),
        (
            json!({"requiredAchievement": ["https://a.example/1"], "minimumRequired": 0}),
            "from 1 to 1",
        ),
        (
            json!({"requiredAchievement": ["https://a.example/1"], "completionWindow": "3 years"}),
            "ISO 8601",
        ),
        (
            json!({"requiredAchievement": ["https://a.example/1"], "completionWindow": "P1.5Y"}),
            "ISO 8601",
        ),
        (
            json!({"requiredAchievement": ["https://a.example/1"], "minimumCredits": -1}),
            "zero or more",
        ),
        (json!({"minimumRequired": 1}), "missing"),
        (json!("P3Y"), "object"),
    ] {
        let e = StackingRequirement::from_value(&rule).unwrap_err();
        assert!(e.to_string().contains(needle), "{rule}: {e}");
    }
    let ok = StackingRequirement::from_value(&json!({
        "requiredAchievement": "https://a.example/1", "completionWindow": "P1Y2M3W4DT5H6M7S"
    }))
    .unwrap();
    assert_eq!(ok.minimum_required, 1);
}

/// A rule a verifier could not check is a lint error, so nothing is signed with it.
#[test]
fn lint_refuses_a_malformed_rule() {
    let mut achievement = df_certificate();
    achievement["stackingRequirement"]["minimumRequired"] = json!(4);
    let mut profile = read("issuer-profile.json");
    profile["id"] = json!(northbridge().controller());
    let t = CredentialTemplate::new(
        Achievement::from_value(achievement).unwrap(),
        Profile::from_value(profile).unwrap(),
        &LintOptions::new(),
    )
    .unwrap();
    let errors: Vec<_> = t
        .report()
        .errors()
        .map(|f| (f.rule, f.message.clone()))
        .collect();
    assert!(
        errors
            .iter()
            .any(|(rule, m)| *rule == "mc.stackingRequirement" && m.contains("from 1 to 3")),
        "{errors:?}"
    );
    assert!(!t
        .report()
        .errors()
        .any(|f| f.rule != "mc.stackingRequirement"));
}

fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("P3Y".to_owned()),
            Just("https://credentials.northbridge.example/achievements/df-101".to_owned()),
            Just("2025-02-21T17:00:00Z".to_owned()),
            Just("Completed".to_owned()),
            "[a-zA-Z0-9:/$.-]{0,24}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("requiredAchievement".to_owned()),
                        Just("minimumRequired".to_owned()),
                        Just("minimumCredits".to_owned()),
                        Just("completionWindow".to_owned()),
                        Just("credentialSubject".to_owned()),
                        Just("achievement".to_owned()),
                        Just("id".to_owned()),
                        Just("identifier".to_owned()),
                        Just("awardedDate".to_owned()),
                        Just("result".to_owned()),
                        Just("status".to_owned()),
                        Just("relatedResource".to_owned()),
                        Just("evidence".to_owned()),
                        "[a-z]{1,8}",
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 256, ..Default::default() })]

    /// Any rule and any components: a report, never a panic; a rule that cannot be read is
    /// never valid; a valid verdict always has enough requirements satisfied.
    #[test]
    fn any_input_gives_a_report(rule in arb_json(), parts in proptest::collection::vec(arb_json(), 0..5)) {
        static CERT: std::sync::OnceLock<Checked> = std::sync::OnceLock::new();
        let cert = CERT.get_or_init(|| verified(certificate_for(&three()), None, &[]));
        let mut stacked = cert.value.clone();
        stacked["credentialSubject"]["achievement"]["stackingRequirement"] = rule.clone();
        // The stacked credential's own report is reused: this checks the rule logic only.
        let reports: Vec<Report> = parts.iter().map(|_| cert.report.clone()).collect();
        let components: Vec<Component<'_>> = parts
            .iter()
            .zip(&reports)
            .map(|(p, r)| Component { credential: p, bytes: None, report: r })
            .collect();
        let r = check_stack(&stacked, &cert.report, &components, &[]);
        if StackingRequirement::from_value(&rule).is_err() {
            proptest::prop_assert_ne!(r.verdict, Verdict::Valid);
        }
        if r.verdict == Verdict::Valid {
            let rule = r.rule.as_ref().unwrap();
            let satisfied = r.requirements.iter().filter(|q| q.satisfied_by.is_some()).count();
            proptest::prop_assert!(satisfied >= rule.minimum_required);
        }
        proptest::prop_assert_eq!(r.components.len(), parts.len());
    }
}

#[test]
fn a_rule_naming_an_achievement_accepts_its_versions() {
    use microcred_core::achievement_matches;
    let a = "https://issuer.example/institutions/north/achievements/df-101";
    assert!(achievement_matches(a, a));
    assert!(achievement_matches(a, &format!("{a}/versions/3")));
    assert!(!achievement_matches(a, &format!("{a}/versions/")));
    assert!(!achievement_matches(a, &format!("{a}/versions/3a")));
    assert!(!achievement_matches(a, &format!("{a}-2")));
    assert!(!achievement_matches(
        &format!("{a}/versions/2"),
        &format!("{a}/versions/3")
    ));
    assert!(achievement_matches(
        &format!("{a}/versions/2"),
        &format!("{a}/versions/2")
    ));
}
