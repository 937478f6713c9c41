//! The store conformance suite: what every [`Store`] backend must do, checked through the
//! trait alone.
//!
//! Each function takes a fresh, empty store and panics on the first broken promise.
//! [`store_conformance!`] turns the whole suite into one `#[test]` per function for a
//! backend: give it a function returning `(guard, store)`, where the guard keeps alive what
//! the store needs (its temporary directory, its scratch database). The transactional
//! methods are driven by the service's own rules ([`decide`], [`plan_lease`]), as in
//! production, and by rules written here to pin what the store itself guarantees (a list's
//! version moves exactly when a bit changes; a lease never goes past a list's end).

use std::cell::Cell;

use super::{
    AchievementRecord, IdentityKind, InsertOutcome, InstitutionRecord, KeyRecord, KeySecret,
    KeyStatus, LeasePlan, NewCredential, OfferRecord, OfferSecret, Packer, Page,
    RecognizedCredential, Scopes, SealedSecret, StatusAction, StatusChange, StatusChangeOutcome,
    StatusDecision, StatusPurpose, StatusSettings, StatusSlot, Store, StoreError, TokenRecord,
};
use crate::status::{decide, plan_lease, LIST_SIZE};

/// One `#[test]` per conformance function, each on a fresh store from `$fresh()`.
///
/// `store_conformance!(maybe: $fresh)` is for a backend that may be absent (a database server
/// named by the environment): `$fresh()` returns `None` to skip each test (having said why).
macro_rules! store_conformance {
    ($fresh:ident) => {
        $crate::store::conformance::store_conformance!(@list $fresh; plain);
    };
    (maybe: $fresh:ident) => {
        $crate::store::conformance::store_conformance!(@list $fresh; maybe);
    };
    (@list $fresh:ident; $kind:ident) => {
        $crate::store::conformance::store_conformance!(@tests $fresh; $kind;
            institutions_and_meta,
            keys_rotate_and_are_compromised,
            tokens,
            achievement_versions,
            settings,
            idempotency_keys_are_unique_per_institution,
            credential_ids_are_unique_and_outcomes_are_per_row,
            bodies_are_returned_byte_for_byte,
            prefix_scan_is_byte_wise,
            status_leases_never_overlap_and_roll_over,
            status_changes_follow_the_rule_and_bump_versions,
            status_events_are_recorded,
            learners_and_stack_checks,
            recognitions,
            offers_and_nonces,
        );
    };
    (@tests $fresh:ident; plain; $($name:ident),* $(,)?) => {
        mod conformance {
            $(
                #[test]
                fn $name() {
                    let (_guard, store) = super::$fresh();
                    $crate::store::conformance::$name(&store);
                }
            )*
        }
    };
    (@tests $fresh:ident; maybe; $($name:ident),* $(,)?) => {
        mod conformance {
            $(
                #[test]
                fn $name() {
                    let Some((_guard, store)) = super::$fresh() else {
                        return;
                    };
                    $crate::store::conformance::$name(&store);
                }
            )*
        }
    };
}
pub(crate) use store_conformance;

const T0: &str = "2025-01-01T00:00:00Z";

fn institution(slug: &str) -> (InstitutionRecord, KeyRecord) {
    let did = format!("did:web:{slug}.example");
    let inst = InstitutionRecord {
        slug: slug.into(),
        did: did.clone(),
        identity: IdentityKind::DidWeb,
        profile: serde_json::json!({"id": did, "name": format!("Institution {slug}")}),
        created_at: T0.into(),
    };
    let key = KeyRecord {
        method_id: format!("{did}#key-1"),
        institution: slug.into(),
        seq: 1,
        public_multibase: "z6MkFirst".into(),
        status: KeyStatus::Active,
        created_at: T0.into(),
        retired_at: None,
        secret: KeySecret::Sealed(SealedSecret {
            nonce: vec![0; 24],
            ciphertext: vec![1; 48],
        }),
    };
    (inst, key)
}

fn with_institutions(s: &dyn Store, slugs: &[&str]) {
    for slug in slugs {
        let (inst, key) = institution(slug);
        s.create_institution(&inst, &key).unwrap();
    }
}

fn cred(institution: &str, id: &str, key: Option<&str>) -> NewCredential {
    NewCredential {
        id: id.into(),
        institution: institution.into(),
        achievement: "a".into(),
        achievement_version: 1,
        idempotency_key: key.map(str::to_owned),
        request_hash: [id.len() as u8; 32],
        issued_at: T0.into(),
        method_id: format!("did:web:{institution}.example#key-1"),
        body: format!("{{\"id\":\"urn:uuid:{id}\"}}").into_bytes(),
        packed: None,
        learner: None,
        stack_check: None,
    }
}

fn existing_id(o: &InsertOutcome) -> &str {
    match o {
        InsertOutcome::Existing(rec) => &rec.credential.id,
        other => panic!("expected an existing credential, got {other:?}"),
    }
}

const ALL: Page = Page {
    offset: 0,
    limit: 1000,
};

pub(crate) fn institutions_and_meta(s: &dyn Store) {
    assert!(s.institutions().unwrap().is_empty());
    with_institutions(s, &["b", "a"]);
    let (a, key) = institution("a");
    assert!(matches!(
        s.create_institution(&a, &key),
        Err(StoreError::Conflict(_))
    ));
    let all = s.institutions().unwrap();
    assert_eq!(
        all.iter().map(|i| i.slug.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(s.institution("a").unwrap().unwrap(), a);
    assert!(s.institution("c").unwrap().is_none());
    let mut changed = a.clone();
    changed.did = "did:key:z6MkOther".into();
    changed.profile = serde_json::json!({"id": "did:key:z6MkOther", "name": "Renamed é"});
    s.update_institution(&changed).unwrap();
    assert_eq!(s.institution("a").unwrap().unwrap(), changed);
    assert_eq!(s.meta("m").unwrap(), None);
    assert_eq!(
        s.meta_set_if_absent("m", b"\x00first").unwrap(),
        b"\x00first"
    );
    assert_eq!(s.meta_set_if_absent("m", b"second").unwrap(), b"\x00first");
    assert_eq!(s.meta("m").unwrap().unwrap(), b"\x00first");
}

pub(crate) fn keys_rotate_and_are_compromised(s: &dyn Store) {
    with_institutions(s, &["a", "b"]);
    let (mut inst, first) = institution("a");
    assert_eq!(s.keys("a").unwrap(), std::slice::from_ref(&first));
    let second = KeyRecord {
        method_id: format!("{}#key-2", inst.did),
        seq: 2,
        public_multibase: "z6MkSecond".into(),
        created_at: "2025-02-01T00:00:00Z".into(),
        secret: KeySecret::Pkcs11 {
            token: "hsm".into(),
            key_id: vec![7; 16],
        },
        ..first.clone()
    };
    inst.profile = serde_json::json!({"id": inst.did, "name": "rotated"});
    s.rotate_key(&inst, &second, "2025-02-01T00:00:00Z")
        .unwrap();
    let keys = s.keys("a").unwrap();
    let retired = KeyRecord {
        status: KeyStatus::Retired,
        retired_at: Some("2025-02-01T00:00:00Z".into()),
        ..first.clone()
    };
    assert_eq!(keys, [retired.clone(), second.clone()]);
    assert_eq!(s.institution("a").unwrap().unwrap(), inst);
    // A rotation whose new key exists already changes nothing (one transaction).
    let clash = KeyRecord {
        status: KeyStatus::Active,
        ..second.clone()
    };
    assert!(matches!(
        s.rotate_key(&inst, &clash, "2025-03-01T00:00:00Z"),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.keys("a").unwrap(), [retired.clone(), second.clone()]);
    // Only a key that no longer signs can be marked compromised, and only by its institution.
    assert!(!s
        .mark_compromised("a", &second.method_id, "2025-04-01T00:00:00Z")
        .unwrap());
    assert!(!s
        .mark_compromised("b", &first.method_id, "2025-04-01T00:00:00Z")
        .unwrap());
    assert!(!s
        .mark_compromised("a", "did:web:a.example#nope", "2025-04-01T00:00:00Z")
        .unwrap());
    assert!(s
        .mark_compromised("a", &first.method_id, "2025-04-01T00:00:00Z")
        .unwrap());
    let keys = s.keys("a").unwrap();
    assert_eq!(keys[0].status, KeyStatus::Compromised);
    // It stopped signing at the rotation, not when it was found out.
    assert_eq!(keys[0].retired_at.as_deref(), Some("2025-02-01T00:00:00Z"));
    assert_eq!(s.keys("b").unwrap().len(), 1);
}

pub(crate) fn tokens(s: &dyn Store) {
    with_institutions(s, &["a", "b"]);
    let token = |id: &str, inst: &str, n: u8| TokenRecord {
        id: id.into(),
        institution: inst.into(),
        scopes: Scopes::ISSUE.with(Scopes::REVOKE),
        label: format!("label {id}"),
        hash: [n; 32],
        created_at: T0.into(),
        revoked: false,
    };
    let (t1, t2) = (token("tok_1", "a", 1), token("tok_2", "b", 2));
    s.insert_token(&t1).unwrap();
    s.insert_token(&t2).unwrap();
    assert_eq!(s.token_by_hash(&[1; 32]).unwrap().unwrap(), t1);
    assert!(s.token_by_hash(&[3; 32]).unwrap().is_none());
    assert_eq!(s.tokens("a").unwrap(), std::slice::from_ref(&t1));
    assert!(!s.revoke_token("b", "tok_1").unwrap());
    assert!(!s.revoke_token("a", "tok_9").unwrap());
    assert!(s.revoke_token("a", "tok_1").unwrap());
    assert!(s.token_by_hash(&[1; 32]).unwrap().unwrap().revoked);
    assert!(!s.token_by_hash(&[2; 32]).unwrap().unwrap().revoked);
}

pub(crate) fn achievement_versions(s: &dyn Store) {
    with_institutions(s, &["a", "b"]);
    let version = |slug: &str, v: i64| AchievementRecord {
        institution: "a".into(),
        slug: slug.into(),
        version: v,
        definition: serde_json::json!({"id": format!("urn:{slug}:{v}"), "name": "Digital fluency «1»"}),
        content_hash: [v as u8; 32],
        created_at: T0.into(),
        lint_profile: None,
    };
    for (slug, v) in [("x", 1), ("x", 2), ("y", 1)] {
        s.insert_achievement(&version(slug, v)).unwrap();
    }
    assert!(matches!(
        s.insert_achievement(&version("x", 2)),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.achievement("a", "x", None).unwrap().unwrap(),
        version("x", 2)
    );
    assert_eq!(
        s.achievement("a", "x", Some(1)).unwrap().unwrap(),
        version("x", 1)
    );
    assert!(s.achievement("a", "x", Some(3)).unwrap().is_none());
    assert!(s.achievement("b", "x", None).unwrap().is_none());
    assert_eq!(
        s.achievements("a").unwrap(),
        [version("x", 2), version("y", 1)]
    );
    assert!(s.achievements("b").unwrap().is_empty());
    assert_eq!(s.latest_achievement_version("a", "x").unwrap(), Some(2));
    assert_eq!(s.latest_achievement_version("a", "z").unwrap(), None);
    assert_eq!(s.achievement_versions("a", "x").unwrap(), [1, 2]);
    assert!(s
        .set_achievement_lint_profile("a", "x", 1, Some("heqco"))
        .unwrap());
    assert!(!s
        .set_achievement_lint_profile("a", "x", 9, Some("heqco"))
        .unwrap());
    let v1 = s.achievement("a", "x", Some(1)).unwrap().unwrap();
    assert_eq!(v1.lint_profile.as_deref(), Some("heqco"));
    assert_eq!(
        s.achievement("a", "x", Some(2))
            .unwrap()
            .unwrap()
            .lint_profile,
        None
    );
    assert!(s.set_achievement_lint_profile("a", "x", 1, None).unwrap());
    assert_eq!(
        s.achievement("a", "x", Some(1)).unwrap().unwrap(),
        version("x", 1)
    );
}

pub(crate) fn settings(s: &dyn Store) {
    with_institutions(s, &["a", "b"]);
    assert_eq!(s.status_settings("a").unwrap(), StatusSettings::default());
    s.set_status_settings("a", &StatusSettings { suspension: true })
        .unwrap();
    assert!(s.status_settings("a").unwrap().suspension);
    assert!(!s.status_settings("b").unwrap().suspension);
    // The lint profile is a setting of its own: neither clobbers the other.
    assert_eq!(s.lint_profile("a").unwrap(), None);
    s.set_lint_profile("a", Some("eu-2022")).unwrap();
    assert_eq!(s.lint_profile("a").unwrap().as_deref(), Some("eu-2022"));
    assert!(s.status_settings("a").unwrap().suspension);
    s.set_status_settings("a", &StatusSettings { suspension: false })
        .unwrap();
    assert_eq!(s.lint_profile("a").unwrap().as_deref(), Some("eu-2022"));
    assert_eq!(s.lint_profile("b").unwrap(), None);
    s.set_lint_profile("a", None).unwrap();
    assert_eq!(s.lint_profile("a").unwrap(), None);
}

pub(crate) fn idempotency_keys_are_unique_per_institution(s: &dyn Store) {
    with_institutions(s, &["a", "b"]);
    // The same key twice in one group: the second row gets the first.
    let out = s
        .insert_credentials(&[
            cred("a", "a1", Some("k")),
            cred("b", "b1", Some("k")),
            cred("a", "a2", Some("k")),
            cred("a", "a3", None),
            cred("a", "a4", None),
        ])
        .unwrap();
    assert_eq!(out[0], InsertOutcome::Inserted);
    assert_eq!(
        out[1],
        InsertOutcome::Inserted,
        "same key, other institution"
    );
    assert_eq!(existing_id(&out[2]), "a1");
    assert_eq!(out[3], InsertOutcome::Inserted, "no key: never a duplicate");
    assert_eq!(out[4], InsertOutcome::Inserted);
    // A later group: the stored credential comes back whole.
    let out = s.insert_credentials(&[cred("b", "b2", Some("k"))]).unwrap();
    match &out[0] {
        InsertOutcome::Existing(rec) => {
            assert_eq!(rec.credential, cred("b", "b1", Some("k")));
            assert_eq!(rec.revoked_at, None);
        }
        other => panic!("{other:?}"),
    }
    let by_key = |inst: &str| {
        s.credential_by_key(inst, "k")
            .unwrap()
            .map(|r| r.credential.id)
    };
    assert_eq!(by_key("a").as_deref(), Some("a1"));
    assert_eq!(by_key("b").as_deref(), Some("b1"));
    assert_eq!(by_key("c"), None);
    assert!(s.credential("a2").unwrap().is_none());
    assert_eq!(s.credential_count("a").unwrap(), 3);
    assert_eq!(s.credential_count("b").unwrap(), 1);
}

pub(crate) fn credential_ids_are_unique_and_outcomes_are_per_row(s: &dyn Store) {
    with_institutions(s, &["a", "b"]);
    let out = s
        .insert_credentials(&[cred("a", "x", Some("k1")), cred("a", "y", None)])
        .unwrap();
    assert_eq!(out, [InsertOutcome::Inserted, InsertOutcome::Inserted]);
    // A taken id skips its row only; a retry under the row's key still gets its credential;
    // ids are unique across institutions.
    let out = s
        .insert_credentials(&[
            cred("a", "x", None),
            cred("a", "z", None),
            cred("a", "y", Some("k2")),
            cred("a", "x", Some("k1")),
            cred("b", "x", None),
            cred("b", "w", Some("k1")),
        ])
        .unwrap();
    assert_eq!(out[0], InsertOutcome::IdTaken);
    assert_eq!(out[1], InsertOutcome::Inserted);
    assert_eq!(out[2], InsertOutcome::IdTaken);
    assert_eq!(existing_id(&out[3]), "x");
    assert_eq!(out[4], InsertOutcome::IdTaken);
    assert_eq!(out[5], InsertOutcome::Inserted);
    assert_eq!(out.len(), 6);
    assert_eq!(s.credential_count("a").unwrap(), 3);
    assert_eq!(s.credential_count("b").unwrap(), 1);
    assert!(s.credential_by_key("a", "k2").unwrap().is_none());
    assert_eq!(
        s.credential("x").unwrap().unwrap().credential.institution,
        "a"
    );
    assert!(s.insert_credentials(&[]).unwrap().is_empty());
}

pub(crate) fn bodies_are_returned_byte_for_byte(s: &dyn Store) {
    with_institutions(s, &["a"]);
    let shared = serde_json::to_vec(&serde_json::json!({"name": "é «x» ".repeat(500)})).unwrap();
    let parts = std::sync::Arc::new(super::BodyParts::new(vec![shared, b"\"n\":1".to_vec()]));
    let packed = |id: &str, key: Option<&str>| {
        let mut p = Packer::new(parts.clone(), 6000);
        p.out()
            .extend_from_slice(format!("{{\"id\":\"{id}\",\"a\":").as_bytes());
        assert!(p.part(0));
        p.out().push(b',');
        assert!(p.part(1));
        p.out().extend_from_slice(b"}\n");
        let (body, packed) = p.finish();
        NewCredential {
            body,
            packed: Some(packed),
            learner: None,
            stack_check: None,
            ..cred("a", id, key)
        }
    };
    // Bytes a JSON re-serialization would change: whitespace, escapes, key order.
    let mut plain = cred("a", "plain", Some("kp"));
    plain.body = b"{ \"z\":1,\n \"a\":\"\\u00e9\xc3\xa9\" }  ".to_vec();
    let rows = [packed("p1", Some("k1")), plain.clone(), packed("p2", None)];
    let out = s.insert_credentials(&rows).unwrap();
    assert!(out.iter().all(|o| *o == InsertOutcome::Inserted), "{out:?}");
    // A later group with the same part set (already stored).
    let p3 = packed("p3", None);
    s.insert_credentials(std::slice::from_ref(&p3)).unwrap();
    for c in rows.iter().chain([&p3]) {
        assert_eq!(
            s.credential_body(&c.id).unwrap().unwrap(),
            c.body,
            "{}",
            c.id
        );
        let rec = s.credential(&c.id).unwrap().unwrap();
        assert_eq!(rec.credential.body, c.body, "{}", c.id);
        assert_eq!(rec.credential.packed, None);
        assert_eq!(rec.credential.request_hash, c.request_hash);
        assert_eq!(rec.credential.method_id, c.method_id);
    }
    assert_eq!(
        s.credential_by_key("a", "k1")
            .unwrap()
            .unwrap()
            .credential
            .body,
        rows[0].body
    );
    match &s.insert_credentials(&[packed("p9", Some("k1"))]).unwrap()[0] {
        InsertOutcome::Existing(rec) => assert_eq!(rec.credential.body, rows[0].body),
        other => panic!("{other:?}"),
    }
    assert!(s.credential_body("nope").unwrap().is_none());
    // Listing: newest first, bodies left empty.
    let listed = s.credentials("a", ALL).unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|r| r.credential.id.as_str())
            .collect::<Vec<_>>(),
        ["p3", "p2", "plain", "p1"]
    );
    assert!(listed.iter().all(|r| r.credential.body.is_empty()));
    let page = s
        .credentials(
            "a",
            Page {
                offset: 1,
                limit: 2,
            },
        )
        .unwrap();
    assert_eq!(
        page.iter()
            .map(|r| r.credential.id.as_str())
            .collect::<Vec<_>>(),
        ["p2", "plain"]
    );
    assert_eq!(s.credential_count("a").unwrap(), 4);
}

pub(crate) fn prefix_scan_is_byte_wise(s: &dyn Store) {
    with_institutions(s, &["a", "b"]);
    let keys = [
        "b/1",
        "b/2",
        "b/%",
        "b/\u{10FFFF}",
        "b/\u{10FFFF}x",
        "b_x",
        "b0",
        "B/1",
        "b",
        "é/1",
        "é/2",
        "ê/1",
        "e/1",
        "\u{10FFFF}x",
    ];
    let rows: Vec<NewCredential> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| cred("a", &format!("id{i}"), Some(k)))
        .chain([cred("b", "other", Some("b/9"))])
        .collect();
    s.insert_credentials(&rows).unwrap();
    let scan = |prefix: &str| {
        let mut got: Vec<String> = s
            .keyed_with_prefix("a", prefix)
            .unwrap()
            .into_iter()
            .map(|(k, id, hash)| {
                let row = rows.iter().find(|r| r.id == id).unwrap();
                assert_eq!(row.idempotency_key.as_deref(), Some(k.as_str()));
                assert_eq!(row.request_hash, hash);
                k
            })
            .collect();
        got.sort();
        got
    };
    assert_eq!(
        scan("b/"),
        ["b/%", "b/1", "b/2", "b/\u{10FFFF}", "b/\u{10FFFF}x"]
    );
    assert_eq!(scan("b_"), ["b_x"], "`_` is no wildcard");
    assert!(scan("%").is_empty(), "`%` is no wildcard");
    assert!(scan("B/2").is_empty(), "case matters");
    assert_eq!(scan("é/"), ["é/1", "é/2"]);
    assert_eq!(scan("b/\u{10FFFF}"), ["b/\u{10FFFF}", "b/\u{10FFFF}x"]);
    assert_eq!(scan("\u{10FFFF}"), ["\u{10FFFF}x"]);
    assert_eq!(scan("").len(), keys.len());
    assert_eq!(scan("b/1"), ["b/1"]);
    assert!(scan("b/10").is_empty());
}

fn list_with_id(
    id: &str,
    purpose: StatusPurpose,
) -> impl Fn(&super::LeaseView) -> Result<LeasePlan, StoreError> + '_ {
    move |view| {
        let mut plan = plan_lease(view, "a", purpose, "did:web:a.example", 1)?;
        if let LeasePlan::Start { list, .. } = &mut plan {
            list.id = id.into();
        }
        Ok(plan)
    }
}

pub(crate) fn status_leases_never_overlap_and_roll_over(s: &dyn Store) {
    with_institutions(s, &["a", "b"]);
    let r = StatusPurpose::Revocation;
    let lease = |issuer: &str, want: u64| {
        s.lease_status_block("a", r, issuer, &|view| {
            plan_lease(view, "a", r, issuer, want)
        })
        .unwrap()
    };
    let a = lease("did:web:a.example", 100_000);
    assert_eq!((a.list.seq, a.start, a.end), (1, 0, 100_000));
    assert_eq!(a.list.size, LIST_SIZE);
    // Only what is left of list 1.
    let b = lease("did:web:a.example", 100_000);
    assert_eq!(
        (&b.list.id, b.start, b.end),
        (&a.list.id, 100_000, LIST_SIZE)
    );
    // List 1 is full: list 2 starts.
    let c = lease("did:web:a.example", 10);
    assert_ne!(c.list.id, a.list.id);
    assert_eq!((c.list.seq, c.start, c.end), (2, 0, 10));
    let d = lease("did:web:a.example", 1);
    assert_eq!((&d.list.id, d.start, d.end), (&c.list.id, 10, 11));
    // Another issuer (a did:key institution after rotation) gets its own list, with the
    // next seq of the institution.
    let e = lease("did:key:z6MkOther", 1);
    assert_eq!((e.list.seq, e.start, e.end), (3, 0, 1));
    assert_eq!(e.list.issuer, "did:key:z6MkOther");
    // Other institutions and purposes count on their own.
    let f = s
        .lease_status_block("b", r, "did:web:b.example", &|view| {
            plan_lease(view, "b", r, "did:web:b.example", 5)
        })
        .unwrap();
    assert_eq!((f.list.seq, f.start, f.end), (1, 0, 5));
    // The store never moves a counter past a list's end, nor by nothing.
    for bad in [LIST_SIZE, 0] {
        let refused =
            s.lease_status_block("a", r, "did:web:a.example", &|_| Ok(LeasePlan::Take(bad)));
        assert!(refused.is_err(), "{bad}");
    }
    let stored = s.status_list(&c.list.id).unwrap().unwrap();
    assert_eq!(stored.allocated, 11);
    assert_eq!(
        s.status_list(&a.list.id).unwrap().unwrap().allocated,
        LIST_SIZE
    );
    let lists = s.status_lists("a").unwrap();
    assert_eq!(lists.iter().map(|l| l.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(lists.iter().all(|l| l.purpose == r && l.version == 0));
    assert!(s.status_list("no-such-list").unwrap().is_none());
    assert_eq!(s.status_lists("b").unwrap().len(), 1);
}

pub(crate) fn status_changes_follow_the_rule_and_bump_versions(s: &dyn Store) {
    with_institutions(s, &["a", "b"]);
    s.insert_credentials(&[cred("a", "c1", None), cred("a", "c2", None)])
        .unwrap();
    let (rp, sp) = (StatusPurpose::Revocation, StatusPurpose::Suspension);
    s.lease_status_block("a", rp, "did:web:a.example", &list_with_id("r1", rp))
        .unwrap();
    s.lease_status_block("a", sp, "did:web:a.example", &list_with_id("s1", sp))
        .unwrap();
    let slot = |list: &str, index, purpose| StatusSlot {
        list_id: list.into(),
        index,
        purpose,
    };
    let slots = vec![slot("r1", 77, rp), slot("s1", 5, sp)];
    let ch = |id: &str, action, slots: &[StatusSlot]| StatusChange {
        institution: "a".into(),
        credential_id: id.into(),
        action,
        slots: slots.to_vec(),
        reason: format!("{action:?} {id}"),
        actor: "tok_1".into(),
        at: "2025-03-01T00:00:00Z".into(),
    };
    use StatusAction::{Reinstate, Revoke, Suspend};
    use StatusChangeOutcome::{Changed, Conflict, NotFound, Unchanged};
    // One group: each change sees the ones before it.
    let out = s
        .apply_status_changes(
            &[
                ch("c1", Suspend, &slots),
                ch("c1", Suspend, &slots),
                ch("c1", Reinstate, &slots),
                ch("c1", Reinstate, &slots),
                ch("c1", Suspend, &slots),
            ],
            &decide,
        )
        .unwrap();
    assert_eq!(out, [Changed, Unchanged, Changed, Unchanged, Changed]);
    assert!(s.status_bit("s1", 5).unwrap());
    assert!(!s.status_bit("s1", 6).unwrap());
    assert_eq!(s.status_list_bits("s1").unwrap().unwrap(), (3, vec![5]));
    let s1 = s.status_list("s1").unwrap().unwrap();
    assert_eq!(
        (s1.version, s1.updated_at.as_str()),
        (3, "2025-03-01T00:00:00Z")
    );
    let out = s
        .apply_status_changes(
            &[ch("c1", Revoke, &slots), ch("c1", Reinstate, &slots)],
            &decide,
        )
        .unwrap();
    assert_eq!(out[0], Changed);
    assert!(matches!(out[1], Conflict(_)));
    let c1 = s.credential("c1").unwrap().unwrap();
    assert_eq!(c1.revoked_at.as_deref(), Some("2025-03-01T00:00:00Z"));
    assert_eq!(c1.revocation_reason.as_deref(), Some("Revoke c1"));
    assert_eq!(s.status_list_bits("r1").unwrap().unwrap(), (1, vec![77]));
    // Slots that are not the institution's lists, have another purpose, or are out of range.
    for bad in [
        slot("r1", LIST_SIZE, rp),
        slot("s1", 1, rp),
        slot("no-such-list", 1, rp),
        slot("r1", u64::MAX, rp),
    ] {
        let out = s
            .apply_status_changes(&[ch("c2", Revoke, std::slice::from_ref(&bad))], &decide)
            .unwrap();
        assert!(matches!(out[0], Conflict(_)), "{bad:?}");
    }
    assert_eq!(s.credential("c2").unwrap().unwrap().revoked_at, None);
    // Another institution's lists are not this one's.
    s.insert_credentials(&[cred("b", "c3", None)]).unwrap();
    let mut theirs = ch("c3", Revoke, &slots[..1]);
    theirs.institution = "b".into();
    assert!(matches!(
        s.apply_status_changes(&[theirs], &decide).unwrap()[0],
        Conflict(_)
    ));
    // Suspension without a suspension entry.
    assert!(matches!(
        s.apply_status_changes(&[ch("c2", Suspend, &[])], &decide)
            .unwrap()[0],
        Conflict(_)
    ));
    // Not the institution's credential: the rule is not even asked.
    let asked = Cell::new(0);
    let counting = |c: &StatusChange, st: &super::StatusState| {
        asked.set(asked.get() + 1);
        decide(c, st)
    };
    let mut foreign = ch("c1", Revoke, &[]);
    foreign.institution = "b".into();
    assert_eq!(
        s.apply_status_changes(&[foreign, ch("nope", Revoke, &[])], &counting)
            .unwrap(),
        [NotFound, NotFound]
    );
    assert_eq!(asked.get(), 0);
    // The store applies what it is told, and bumps a version exactly when a bit changes.
    let write = |bits: Vec<(usize, bool)>| {
        move |_: &StatusChange, _: &super::StatusState| StatusDecision {
            outcome: Changed,
            revoke: false,
            bits: bits.clone(),
            audit: false,
        }
    };
    let version = |id: &str| s.status_list(id).unwrap().unwrap().version;
    let before = (version("r1"), version("s1"));
    s.apply_status_changes(
        &[ch("c1", Suspend, &slots)],
        &write(vec![(0, true), (1, true)]),
    )
    .unwrap();
    assert_eq!((version("r1"), version("s1")), before, "bits already set");
    s.apply_status_changes(&[ch("c1", Suspend, &slots)], &write(vec![(1, false)]))
        .unwrap();
    assert_eq!((version("r1"), version("s1")), (before.0, before.1 + 1));
    assert_eq!(
        s.status_list_bits("s1").unwrap().unwrap(),
        (before.1 + 1, vec![])
    );
    s.apply_status_changes(&[ch("c1", Suspend, &slots)], &write(vec![(1, false)]))
        .unwrap();
    assert_eq!(version("s1"), before.1 + 1, "bit already clear");
    // The state the rule sees is the stored one.
    let seen = std::cell::RefCell::new(None);
    let spy = |c: &StatusChange, st: &super::StatusState| {
        *seen.borrow_mut() = Some(st.clone());
        decide(c, st)
    };
    s.apply_status_changes(&[ch("c1", Revoke, &slots)], &spy)
        .unwrap();
    let st = seen.borrow().clone().unwrap();
    assert_eq!(st.revoked_at.as_deref(), Some("2025-03-01T00:00:00Z"));
    assert_eq!(st.slots.len(), 2);
    assert_eq!(st.slots[0].list, Some((rp, LIST_SIZE)));
    assert!(st.slots[0].set);
    assert_eq!(st.slots[1].list, Some((sp, LIST_SIZE)));
    assert!(!st.slots[1].set);
    assert!(s.apply_status_changes(&[], &decide).unwrap().is_empty());
}

pub(crate) fn status_events_are_recorded(s: &dyn Store) {
    with_institutions(s, &["a", "b"]);
    s.insert_credentials(&[cred("a", "c1", None), cred("a", "c2", None)])
        .unwrap();
    let ch = |id: &str, action, at: &str| StatusChange {
        institution: "a".into(),
        credential_id: id.into(),
        action,
        slots: Vec::new(),
        reason: format!("{action:?} {id} «why»"),
        actor: "tok_7".into(),
        at: at.into(),
    };
    let out = s
        .apply_status_changes(
            &[
                ch("c1", StatusAction::Revoke, "t1"),
                ch("c2", StatusAction::Suspend, "t2"),
                ch("c1", StatusAction::Revoke, "t3"),
                ch("c9", StatusAction::Revoke, "t4"),
                ch("c2", StatusAction::Revoke, "t5"),
            ],
            &decide,
        )
        .unwrap();
    assert!(matches!(out[1], StatusChangeOutcome::Conflict(_)));
    assert_eq!(out[3], StatusChangeOutcome::NotFound);
    // Accepted changes only (changed or not), newest first.
    let events = s.status_events("a", None, ALL).unwrap();
    let summary: Vec<(&str, bool, &str)> = events
        .iter()
        .map(|e| (e.credential_id.as_str(), e.changed, e.at.as_str()))
        .collect();
    assert_eq!(
        summary,
        [("c2", true, "t5"), ("c1", false, "t3"), ("c1", true, "t1")]
    );
    assert_eq!(events[2].action, StatusAction::Revoke);
    assert_eq!(events[2].reason, "Revoke c1 «why»");
    assert_eq!(events[2].actor, "tok_7");
    let c1 = s.status_events("a", Some("c1"), ALL).unwrap();
    assert_eq!(c1.len(), 2);
    assert!(c1.iter().all(|e| e.credential_id == "c1"));
    let page = s
        .status_events(
            "a",
            None,
            Page {
                offset: 1,
                limit: 1,
            },
        )
        .unwrap();
    assert_eq!(page, [events[1].clone()]);
    assert!(s.status_events("b", None, ALL).unwrap().is_empty());
}

/// A credential's learner key is kept and found again (at every institution); a stack check
/// is queued only with a credential actually stored, in its transaction, queued again by a
/// later one (a new version), and finished only at the version that was taken.
pub(crate) fn learners_and_stack_checks(s: &dyn Store) {
    with_institutions(s, &["ln-a", "ln-b"]);
    let mut one = cred("ln-a", "l-1", Some("k1"));
    one.learner = Some("learner-1".into());
    one.stack_check = Some(vec![1, 2, 3]);
    let mut other_inst = cred("ln-b", "l-2", None);
    other_inst.learner = Some("learner-1".into());
    let mut someone_else = cred("ln-a", "l-3", None);
    someone_else.learner = Some("learner-2".into());
    someone_else.stack_check = Some(vec![9]);
    let out = s
        .insert_credentials(&[one.clone(), other_inst, someone_else])
        .unwrap();
    assert!(out.iter().all(|o| *o == InsertOutcome::Inserted), "{out:?}");
    let mine: Vec<String> = s
        .learner_credentials("learner-1")
        .unwrap()
        .into_iter()
        .map(|r| {
            assert_eq!(r.credential.learner.as_deref(), Some("learner-1"));
            assert_eq!(r.credential.stack_check, None);
            r.credential.id
        })
        .collect();
    assert_eq!(mine.len(), 2);
    assert!(mine.contains(&"l-1".to_owned()) && mine.contains(&"l-2".to_owned()));
    assert!(s.learner_credentials("nobody").unwrap().is_empty());
    let listed = s.credentials("ln-a", ALL).unwrap();
    assert!(listed
        .iter()
        .any(|r| r.credential.learner.as_deref() == Some("learner-1")));
    assert_eq!(
        s.credential("l-1")
            .unwrap()
            .unwrap()
            .credential
            .learner
            .as_deref(),
        Some("learner-1")
    );

    let queued = s.stack_checks(10).unwrap();
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert!(s.finish_stack_check("learner-2", 1).unwrap());
    let queued = s.stack_checks(10).unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].learner, "learner-1");
    assert_eq!(queued[0].recipient, vec![1, 2, 3]);
    let first = queued[0].version;

    // A retry under the same idempotency key stores nothing and queues nothing.
    let again = s.insert_credentials(&[one]).unwrap();
    assert!(matches!(again[0], InsertOutcome::Existing(_)));
    assert_eq!(s.stack_checks(10).unwrap()[0].version, first);

    // Another credential of the learner queues the check again: taking the old version does
    // not finish the new one.
    let mut later = cred("ln-a", "l-4", None);
    later.learner = Some("learner-1".into());
    later.stack_check = Some(vec![4, 5, 6]);
    s.insert_credentials(&[later]).unwrap();
    let queued = s.stack_checks(10).unwrap();
    assert_eq!(queued.len(), 1);
    assert!(queued[0].version > first);
    assert_eq!(queued[0].recipient, vec![4, 5, 6]);
    assert!(!s.finish_stack_check("learner-1", first).unwrap());
    assert_eq!(s.stack_checks(10).unwrap().len(), 1);
    assert!(s
        .finish_stack_check("learner-1", queued[0].version)
        .unwrap());
    assert!(s.stack_checks(10).unwrap().is_empty());
}

/// Recognized credentials are recorded once per institution and learner (a second recording is
/// reported as not new), found by learner, and queue a stack check in the same transaction;
/// an institution's recognized issuers are kept as given.
pub(crate) fn recognitions(s: &dyn Store) {
    with_institutions(s, &["rc-a", "rc-b"]);
    assert_eq!(s.recognized_issuers("rc-a").unwrap(), None);
    s.set_recognized_issuers("rc-a", "[{\"id\":\"did:key:z6Mk\",\"name\":\"X\"}]")
        .unwrap();
    s.set_lint_profile("rc-a", Some("eu-2022")).unwrap();
    assert_eq!(
        s.recognized_issuers("rc-a").unwrap().as_deref(),
        Some("[{\"id\":\"did:key:z6Mk\",\"name\":\"X\"}]")
    );
    assert_eq!(s.lint_profile("rc-a").unwrap().as_deref(), Some("eu-2022"));
    let row = |inst: &str, id: &str| RecognizedCredential {
        institution: inst.into(),
        learner: "learner-r".into(),
        id: id.into(),
        issuer: "did:key:z6Mk".into(),
        achievement: "https://elsewhere.example/a".into(),
        body: format!("{{\"id\":\"{id}\"}}").into_bytes(),
        verification: None,
        recorded_at: T0.into(),
        recorded_by: "admin".into(),
    };
    let fresh = s
        .record_recognitions(
            &[row("rc-a", "urn:uuid:r1"), row("rc-a", "urn:uuid:r2")],
            Some(("learner-r", &[7, 7])),
        )
        .unwrap();
    assert_eq!(fresh, vec![true, true]);
    let again = s
        .record_recognitions(
            &[row("rc-a", "urn:uuid:r2"), row("rc-b", "urn:uuid:r2")],
            None,
        )
        .unwrap();
    assert_eq!(again, vec![false, true]);
    let found = s.learner_recognitions("learner-r").unwrap();
    assert_eq!(found.len(), 3);
    assert!(found.iter().all(|r| r.body.starts_with(b"{\"id\"")));
    assert!(s.learner_recognitions("someone").unwrap().is_empty());
    let queued = s.stack_checks(10).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].recipient, vec![7, 7]);
}

/// Offers are found by each of their secrets, change only by compare-and-swap on their version
/// (so one update of two racing ones wins), and nonces are taken once, never after expiry.
pub(crate) fn offers_and_nonces(s: &dyn Store) {
    with_institutions(s, &["of-a", "of-b"]);
    let offer = |id: &str, inst: &str, n: u8, at: &str| OfferRecord {
        id: id.into(),
        institution: inst.into(),
        version: 1,
        code_hash: [n; 32],
        token_hash: None,
        exchange_hash: [n + 100; 32],
        created_at: at.into(),
        expires_at: "2030-01-01T00:00:00Z".into(),
        body: format!("{{\"n\":{n}}}").into_bytes(),
    };
    let first = offer("offer-1", "of-a", 1, "2026-01-01T00:00:00Z");
    s.insert_offer(&first).unwrap();
    s.insert_offer(&offer("offer-2", "of-a", 2, "2026-01-02T00:00:00Z"))
        .unwrap();
    s.insert_offer(&offer("offer-3", "of-b", 3, "2026-01-03T00:00:00Z"))
        .unwrap();
    // A secret is unique: an offer reusing a code hash is refused.
    assert!(s
        .insert_offer(&offer("offer-4", "of-a", 1, "2026-01-04T00:00:00Z"))
        .is_err());
    assert_eq!(s.offer("offer-1").unwrap().as_ref(), Some(&first));
    assert_eq!(s.offer("nope").unwrap(), None);
    assert_eq!(
        s.offer_by_secret(OfferSecret::Code, &[2; 32])
            .unwrap()
            .map(|o| o.id),
        Some("offer-2".to_owned())
    );
    assert_eq!(
        s.offer_by_secret(OfferSecret::Exchange, &[103; 32])
            .unwrap()
            .map(|o| o.id),
        Some("offer-3".to_owned())
    );
    assert_eq!(
        s.offer_by_secret(OfferSecret::Token, &[1; 32]).unwrap(),
        None
    );
    let page = |offset, limit| {
        s.offers("of-a", Page { offset, limit })
            .unwrap()
            .into_iter()
            .map(|o| o.id)
            .collect::<Vec<String>>()
    };
    assert_eq!(page(0, 10), ["offer-2", "offer-1"]);
    assert_eq!(page(0, 1), ["offer-2"]);
    assert_eq!(page(1, 1), ["offer-1"]);
    assert!(page(2, 10).is_empty());
    assert_eq!(s.offer_count("of-a").unwrap(), 2);
    assert_eq!(s.offer_count("of-b").unwrap(), 1);
    assert_eq!(s.offer_count("nobody").unwrap(), 0);

    // Compare-and-swap: of two updates made from version 1, only the first lands.
    let mut a = first.clone();
    a.version = 2;
    a.token_hash = Some([9; 32]);
    a.body = b"{\"n\":\"a\"}".to_vec();
    let mut b = first.clone();
    b.version = 2;
    b.body = b"{\"n\":\"b\"}".to_vec();
    assert!(s.update_offer(&a, 1).unwrap());
    assert!(!s.update_offer(&b, 1).unwrap());
    let now = s.offer("offer-1").unwrap().unwrap();
    assert_eq!(now, a);
    assert_eq!(
        s.offer_by_secret(OfferSecret::Token, &[9; 32])
            .unwrap()
            .map(|o| o.id),
        Some("offer-1".to_owned())
    );

    // Nonces: once each, and not after they expire.
    let now = "2026-06-01T12:00:00Z";
    s.insert_nonce(&[1; 32], "2026-06-01T12:05:00Z", now)
        .unwrap();
    s.insert_nonce(&[2; 32], "2026-06-01T12:01:00Z", now)
        .unwrap();
    assert!(s.take_nonce(&[1; 32], now).unwrap());
    assert!(!s.take_nonce(&[1; 32], now).unwrap());
    assert!(!s.take_nonce(&[2; 32], "2026-06-01T12:02:00Z").unwrap());
    assert!(!s.take_nonce(&[3; 32], now).unwrap());
}
