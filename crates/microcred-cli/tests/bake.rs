//! Baked badges end to end: issue with the example key, bake into PNG and SVG, verify the
//! image directly, and watch tampered, damaged and ambiguous images fail clearly.

// Test helpers (outside #[test] functions) may unwrap: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{code, example_achievement, repo, run, run_issue, text};

use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// A temp dir with `cred.json`: Digital Fluency 1, signed with the example key.
fn issued() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let key = repo().join("keys-example/issuer-key.json");
    let o = run_issue(
        dir.path(),
        key.to_str().unwrap(),
        &example_achievement("df-101.json"),
        &[
            "--recipient",
            "did:example:learner1",
            "--result",
            "final-assessment=86",
            "--result",
            "status=Completed",
            "--out",
            "cred.json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    dir
}

fn bake(dir: &Path, image: &str, credential: &str, out: &str) -> Output {
    run(
        &[
            "bake",
            "--image",
            image,
            "--credential",
            credential,
            "--out",
            out,
        ],
        dir,
    )
}

/// Verifies one file; returns (exit code, stdout + stderr).
fn verify(dir: &Path, file: &str) -> (i32, String) {
    let o = run(&["verify", file], dir);
    let all = text(&o);
    assert!(!all.contains("panicked"), "{all}");
    (code(&o), all)
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{:?} not found", String::from_utf8_lossy(needle)))
}

/// Replaces `from` by `to` (same length) inside the PNG's iTXt chunk and, if `fix_crc`,
/// recomputes the chunk's CRC so that only the signature can notice.
fn tamper_png(png: &[u8], from: &[u8], to: &[u8], fix_crc: bool) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = png.to_vec();
    let at = find(&out, from);
    out[at..at + to.len()].copy_from_slice(to);
    let chunk = find(&out, b"iTXtopenbadgecredential") - 4;
    let len = u32::from_be_bytes(out[chunk..chunk + 4].try_into().unwrap()) as usize;
    if fix_crc {
        let crc = crc32fast::hash(&out[chunk + 4..chunk + 8 + len]);
        out[chunk + 8 + len..chunk + 12 + len].copy_from_slice(&crc.to_be_bytes());
    }
    out
}

#[test]
fn baked_png_round_trips_and_verifies() {
    let dir = issued();
    let d = dir.path();
    let o = bake(d, &data("badge.png"), "cred.json", "badge.png");
    assert_eq!(code(&o), 0, "{}", text(&o));
    let baked = read(d, "badge.png");
    assert!(baked.starts_with(b"\x89PNG\r\n\x1a\n"));

    // Unbake: byte for byte the issued file, to stdout or to a file.
    let o = run(&["unbake", "badge.png"], d);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(o.stdout, read(d, "cred.json"));
    let o = run(&["unbake", "badge.png", "--out", "back.json"], d);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(read(d, "back.json"), read(d, "cred.json"));

    // Verify the image directly.
    let (c, all) = verify(d, "badge.png");
    assert_eq!(c, 0, "{all}");
    assert!(
        all.contains("VALID \"Digital Fluency 1: Productivity Tools\""),
        "{all}"
    );
    assert!(
        all.contains("extracted from a baked PNG image (iTXt chunk `openbadgecredential`)"),
        "{all}"
    );
    let o = run(&["verify", "--json", "badge.png"], d);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "valid");
    assert!(v["baked_image"].as_str().unwrap().contains("PNG"));

    // Tampered inside the image, with a correct chunk CRC: the signature catches it.
    write(
        d,
        "forged.png",
        &tamper_png(&baked, b"Digital Fluency 1", b"Digital Fluency 9", true),
    );
    let (c, all) = verify(d, "forged.png");
    assert_eq!(c, 1, "{all}");
    assert!(all.contains("INVALID"), "{all}");

    // Tampered without fixing the CRC: a damaged image, could not check.
    write(
        d,
        "damaged.png",
        &tamper_png(&baked, b"Digital Fluency 1", b"Digital Fluency 9", false),
    );
    let (c, all) = verify(d, "damaged.png");
    assert_eq!(c, 2, "{all}");
    assert!(all.contains("COULD NOT CHECK: damaged PNG"), "{all}");
    assert!(all.contains("CRC-32"), "{all}");

    // Baking again replaces the credential (never two).
    let o = bake(d, "badge.png", "cred.json", "again.png");
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(read(d, "again.png"), baked);
}

#[test]
fn baked_svg_round_trips_and_verifies() {
    let dir = issued();
    let d = dir.path();
    let o = bake(d, &data("badge.svg"), "cred.json", "badge.svg");
    assert_eq!(code(&o), 0, "{}", text(&o));
    let baked = String::from_utf8(read(d, "badge.svg")).unwrap();
    assert!(baked.contains("xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\""));
    assert!(
        baked.contains("<openbadges:credential><![CDATA[{"),
        "{baked}"
    );
    // The rest of the drawing is kept.
    assert!(baked.contains("<title>Digital Fluency &amp; more</title>"));

    let o = run(&["unbake", "badge.svg"], d);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(o.stdout, read(d, "cred.json"));

    let (c, all) = verify(d, "badge.svg");
    assert_eq!(c, 0, "{all}");
    assert!(all.contains("extracted from a baked SVG image"), "{all}");

    write(
        d,
        "forged.svg",
        baked
            .replacen("Digital Fluency 1", "Digital Fluency 9", 1)
            .as_bytes(),
    );
    let (c, all) = verify(d, "forged.svg");
    assert_eq!(c, 1, "{all}");
    assert!(all.contains("INVALID"), "{all}");
}

#[test]
fn damaged_and_ambiguous_images_exit_2_with_a_clear_message() {
    let dir = issued();
    let d = dir.path();
    assert_eq!(
        code(&bake(d, &data("badge.png"), "cred.json", "badge.png")),
        0
    );
    assert_eq!(
        code(&bake(d, &data("badge.svg"), "cred.json", "badge.svg")),
        0
    );
    let png = read(d, "badge.png");
    let svg = read(d, "badge.svg");

    let mut huge = png.clone();
    huge[33..37].copy_from_slice(&0x7FFF_0000u32.to_be_bytes());
    // A second credential chunk, copied from the first, right after IHDR.
    let start = find(&png, b"iTXtopenbadgecredential") - 4;
    let len = u32::from_be_bytes(png[start..start + 4].try_into().unwrap()) as usize;
    let second = &png[start..start + 12 + len];
    let two_png = [&png[..start], second, &png[start..]].concat();
    let svg_text = String::from_utf8(svg.clone()).unwrap();
    let two_svg = svg_text.replacen(
        "</svg>",
        "<openbadges:credential verify=\"a.b.c\"></openbadges:credential></svg>",
        1,
    );
    let xxe = svg_text.replacen(
        "<!DOCTYPE svg PUBLIC",
        "<!DOCTYPE svg [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><!-- ",
        1,
    );
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated.png", png[..png.len() / 2].to_vec(), "truncated"),
        ("signature.png", png[..6].to_vec(), "signature"),
        (
            "garbage.png",
            b"\x89PNG\r\n\x1a\ngarbage!".to_vec(),
            "invalid chunk type",
        ),
        ("huge.png", huge, "over the 16 MiB limit"),
        ("two.png", two_png, "carries 2 baked credentials"),
        (
            "plain.png",
            std::fs::read(data("badge.png")).unwrap(),
            "no Open Badges credential",
        ),
        ("truncated.svg", svg[..svg.len() / 2].to_vec(), "truncated"),
        (
            "two.svg",
            two_svg.into_bytes(),
            "carries 2 baked credentials",
        ),
        ("xxe.svg", xxe.into_bytes(), "never expands entities"),
        ("latin1.svg", b"<svg>\xe9</svg>".to_vec(), "not UTF-8"),
        ("page.svg", b"<html><body/></html>".to_vec(), "not <svg>"),
    ];
    for (name, bytes, expected) in &cases {
        write(d, name, bytes);
        let (c, all) = verify(d, name);
        assert_eq!(c, 2, "{name}: {all}");
        assert!(all.contains("COULD NOT CHECK"), "{name}: {all}");
        assert!(
            all.contains(expected),
            "{name}: expected {expected:?} in {all}"
        );
        let o = run(&["unbake", name], d);
        assert_eq!(code(&o), 2, "{name}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(expected),
            "{name}: {}",
            text(&o)
        );
        assert!(!text(&o).contains("panicked"));
    }
    // JSON output for a damaged image is still one JSON object.
    let o = run(&["verify", "--json", "truncated.png"], d);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "indeterminate");
    assert_eq!(v["exit_code"], 2);
}

#[test]
fn open_badges_2_images_are_read_but_not_verified() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let svg = br#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org" viewBox="0 0 512 512">
  <openbadges:assertion verify="https://example.org/assertions/123"/>
</svg>"#;
    write(d, "ob2.svg", svg);
    let (c, all) = verify(d, "ob2.svg");
    assert_eq!(c, 2, "{all}");
    assert!(
        all.contains("OB 2.0 assertion (hosted/signed) — not verifiable as a VC"),
        "{all}"
    );
    assert!(
        all.contains("hosted assertion URL https://example.org/assertions/123"),
        "{all}"
    );
    let o = run(&["unbake", "ob2.svg"], d);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(o.stdout, b"https://example.org/assertions/123");
    assert!(String::from_utf8_lossy(&o.stderr).contains("Open Badges 2.0 assertion"));
    // Baking an OB 3.0 credential over it is refused.
    write(d, "c.json", b"{}");
    let o = run(
        &[
            "bake",
            "--image",
            "ob2.svg",
            "--credential",
            "c.json",
            "--out",
            "x.svg",
            "--allow-unsigned",
        ],
        d,
    );
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("Open Badges 2.0"), "{}", text(&o));
}

#[test]
fn bake_refuses_unsigned_and_invalid_credentials() {
    let dir = issued();
    let d = dir.path();
    let mut cred: Value = serde_json::from_slice(&read(d, "cred.json")).unwrap();
    cred.as_object_mut().unwrap().remove("proof");
    write(
        d,
        "unsigned.json",
        &serde_json::to_vec_pretty(&cred).unwrap(),
    );
    let o = bake(d, &data("badge.png"), "unsigned.json", "u.png");
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("has no proof"), "{}", text(&o));
    assert!(!d.join("u.png").exists());
    let o = run(
        &[
            "bake",
            "--image",
            &data("badge.png"),
            "--credential",
            "unsigned.json",
            "--out",
            "u.png",
            "--allow-unsigned",
        ],
        d,
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let (c, all) = verify(d, "u.png");
    assert_eq!(c, 1, "{all}");

    let forged = String::from_utf8(read(d, "cred.json")).unwrap().replacen(
        "Digital Fluency 1",
        "Digital Fluency 9",
        1,
    );
    write(d, "forged.json", forged.as_bytes());
    let o = bake(d, &data("badge.svg"), "forged.json", "f.svg");
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("does not verify"), "{}", text(&o));

    let o = bake(d, &data("badge.svg"), "no-such.json", "f.svg");
    assert_eq!(code(&o), 2, "{}", text(&o));
    write(d, "notjson.json", b"hello");
    let o = bake(d, &data("badge.svg"), "notjson.json", "f.svg");
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("neither"), "{}", text(&o));
    let o = bake(d, "cred.json", "cred.json", "f.svg");
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("not a PNG or SVG"), "{}", text(&o));
}

#[test]
fn generated_images_bake_and_verify() {
    let dir = issued();
    let d = dir.path();
    for out in ["gen.png", "gen.svg"] {
        let o = run(
            &[
                "bake",
                "--generate",
                "--credential",
                "cred.json",
                "--out",
                out,
            ],
            d,
        );
        assert_eq!(code(&o), 0, "{}", text(&o));
        let (c, all) = verify(d, out);
        assert_eq!(c, 0, "{out}: {all}");
    }
    assert!(read(d, "gen.png").starts_with(b"\x89PNG\r\n\x1a\n"));
    let svg = String::from_utf8(read(d, "gen.svg")).unwrap();
    assert!(
        svg.contains("<title>Digital Fluency 1: Productivity Tools</title>"),
        "{svg}"
    );
    // Exactly one of --image / --generate.
    let o = run(&["bake", "--credential", "cred.json", "--out", "x.png"], d);
    assert_eq!(code(&o), 2, "{}", text(&o));
    let o = run(
        &[
            "bake",
            "--generate",
            "--image",
            "a.png",
            "--credential",
            "cred.json",
            "--out",
            "x.png",
        ],
        d,
    );
    assert_eq!(code(&o), 2, "{}", text(&o));
    for sub in ["bake", "unbake"] {
        let o = run(&[sub, "--help"], d);
        assert_eq!(code(&o), 0, "{sub}");
    }
}
