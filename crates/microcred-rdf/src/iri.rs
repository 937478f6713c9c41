//! IRI helpers: keyword tests, absolute-IRI tests and RFC 3986 reference resolution.

/// All JSON-LD 1.1 keywords (the list [`is_keyword`] is checked against).
#[cfg(test)]
const KEYWORDS: &[&str] = &[
    "@base",
    "@container",
    "@context",
    "@default",
    "@direction",
    "@embed",
    "@explicit",
    "@graph",
    "@id",
    "@import",
    "@included",
    "@index",
    "@json",
    "@language",
    "@list",
    "@nest",
    "@none",
    "@omitDefault",
    "@prefix",
    "@preserve",
    "@protected",
    "@propagate",
    "@requireAll",
    "@reverse",
    "@set",
    "@type",
    "@value",
    "@version",
    "@vocab",
];

pub(crate) fn is_keyword(s: &str) -> bool {
    // Every `id` and `type` of a document expands to a keyword and comes here: a `match` on
    // the text (compiled to a switch on length, then one comparison) rather than a scan of
    // `KEYWORDS` (the test below checks they agree).
    matches!(
        s,
        "@base"
            | "@container"
            | "@context"
            | "@default"
            | "@direction"
            | "@embed"
            | "@explicit"
            | "@graph"
            | "@id"
            | "@import"
            | "@included"
            | "@index"
            | "@json"
            | "@language"
            | "@list"
            | "@nest"
            | "@none"
            | "@omitDefault"
            | "@prefix"
            | "@preserve"
            | "@protected"
            | "@propagate"
            | "@requireAll"
            | "@reverse"
            | "@set"
            | "@type"
            | "@value"
            | "@version"
            | "@vocab"
    )
}

/// Matches the ABNF `"@"1*ALPHA`.
pub(crate) fn has_keyword_form(s: &str) -> bool {
    match s.strip_prefix('@') {
        Some(rest) => !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphabetic()),
        None => false,
    }
}

/// The length of the scheme (without the colon) if `s` starts with `scheme ":"`.
fn scheme_len(s: &str) -> Option<usize> {
    let mut bytes = s.bytes().enumerate();
    match bytes.next() {
        Some((_, b)) if b.is_ascii_alphabetic() => {}
        _ => return None,
    }
    for (i, b) in bytes {
        if b == b':' {
            return Some(i);
        }
        if !(b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.') {
            return None;
        }
    }
    None
}

/// "Has the form of an IRI": a scheme followed by a colon.
pub(crate) fn is_absolute_iri(s: &str) -> bool {
    scheme_len(s).is_some()
}

pub(crate) fn is_blank(s: &str) -> bool {
    s.starts_with("_:")
}

/// Byte classes for [`is_well_formed_iri`]: 0 allowed, 1 never allowed in an IRI, 2 `#`.
static IRI_BYTES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i <= 0x20 {
        t[i] = 1;
        i += 1;
    }
    t[0x7f] = 1;
    t[b'<' as usize] = 1;
    t[b'>' as usize] = 1;
    t[b'"' as usize] = 1;
    t[b'{' as usize] = 1;
    t[b'}' as usize] = 1;
    t[b'|' as usize] = 1;
    t[b'\\' as usize] = 1;
    t[b'^' as usize] = 1;
    t[b'`' as usize] = 1;
    t[b'#' as usize] = 2;
    t
};

/// Well-formed per RFC 3987 for our purposes: absolute, at most one `#`, and no characters that
/// IRIs can never contain (controls, space, `<>"{}|\^` and backtick).
pub(crate) fn is_well_formed_iri(s: &str) -> bool {
    if !is_absolute_iri(s) {
        return false;
    }
    let mut hashes = 0u32;
    for &b in s.as_bytes() {
        match IRI_BYTES[b as usize] {
            0 => {}
            2 => hashes += 1,
            _ => return false,
        }
    }
    hashes <= 1
}

/// Well-formed BCP 47 language tag (the loose syntax check JSON-LD processors use).
pub(crate) fn is_well_formed_language(s: &str) -> bool {
    let mut parts = s.split('-');
    match parts.next() {
        Some(p) if (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()) => {}
        _ => return false,
    }
    parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Ends with one of the RFC 3986 gen-delims `: / ? # [ ] @`.
pub(crate) fn ends_with_gen_delim(s: &str) -> bool {
    matches!(
        s.as_bytes().last(),
        Some(b':' | b'/' | b'?' | b'#' | b'[' | b']' | b'@')
    )
}

struct Parts<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

/// Splits a reference per RFC 3986 appendix B.
fn split(s: &str) -> Parts<'_> {
    let (rest, fragment) = match s.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (s, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let (scheme, rest) = match scheme_len(rest) {
        Some(n) => match (rest.get(..n), rest.get(n + 1..)) {
            (Some(sch), Some(r)) => (Some(sch), r),
            _ => (None, rest),
        },
        None => (None, rest),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(r) => match r.find('/') {
            Some(i) => (r.get(..i), r.get(i..).unwrap_or("")),
            None => (Some(r), ""),
        },
        None => (None, rest),
    };
    Parts {
        scheme,
        authority,
        path,
        query,
        fragment,
    }
}

/// RFC 3986 section 5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut output: Vec<&str> = Vec::new();
    // Each entry of `output` is a segment including its leading "/" (if any).
    while !input.is_empty() {
        if let Some(r) = input.strip_prefix("../") {
            input = r;
        } else if let Some(r) = input.strip_prefix("./") {
            input = r;
        } else if input.starts_with("/./") {
            input = input.get(2..).unwrap_or("");
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") {
            input = input.get(3..).unwrap_or("");
            output.pop();
        } else if input == "/.." {
            input = "/";
            output.pop();
        } else if input == "." || input == ".." {
            input = "";
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input
                .get(start..)
                .and_then(|r| r.find('/'))
                .map_or(input.len(), |i| i + start);
            output.push(input.get(..end).unwrap_or(""));
            input = input.get(end..).unwrap_or("");
        }
    }
    output.concat()
}

fn merge(base: &Parts<'_>, rel_path: &str) -> String {
    if base.authority.is_some() && base.path.is_empty() {
        let mut s = String::with_capacity(rel_path.len() + 1);
        s.push('/');
        s.push_str(rel_path);
        s
    } else {
        match base.path.rfind('/') {
            Some(i) => {
                let mut s = String::from(base.path.get(..=i).unwrap_or(""));
                s.push_str(rel_path);
                s
            }
            None => rel_path.to_owned(),
        }
    }
}

/// Resolves `reference` against the absolute IRI `base` (RFC 3986 section 5.2, basic algorithm).
pub(crate) fn resolve(base: &str, reference: &str) -> String {
    let r = split(reference);
    let b = split(base);
    let (scheme, authority, path, query);
    if r.scheme.is_some() {
        scheme = r.scheme;
        authority = r.authority;
        path = remove_dot_segments(r.path);
        query = r.query;
    } else {
        if r.authority.is_some() {
            authority = r.authority;
            path = remove_dot_segments(r.path);
            query = r.query;
        } else {
            if r.path.is_empty() {
                path = b.path.to_owned();
                query = if r.query.is_some() { r.query } else { b.query };
            } else {
                if r.path.starts_with('/') {
                    path = remove_dot_segments(r.path);
                } else {
                    path = remove_dot_segments(&merge(&b, r.path));
                }
                query = r.query;
            }
            authority = b.authority;
        }
        scheme = b.scheme;
    }
    let mut out = String::with_capacity(base.len() + reference.len());
    if let Some(s) = scheme {
        out.push_str(s);
        out.push(':');
    }
    if let Some(a) = authority {
        out.push_str("//");
        out.push_str(a);
    }
    out.push_str(&path);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = r.fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_exactly_the_listed_ones() {
        for k in KEYWORDS {
            assert!(is_keyword(k), "{k}");
            assert!(!is_keyword(&k[1..]), "{k}");
            assert!(!is_keyword(&format!("{k}s")), "{k}");
            assert!(!is_keyword(&k.to_uppercase()), "{k}");
        }
        for other in ["", "@", "@foo", "@ID", "id", "type", "@typ"] {
            assert!(!is_keyword(other), "{other}");
        }
    }

    #[test]
    fn rfc3986_examples() {
        let base = "http://a/b/c/d;p?q";
        let cases = [
            ("g:h", "g:h"),
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q#s"),
            ("g#s", "http://a/b/c/g#s"),
            ("g?y#s", "http://a/b/c/g?y#s"),
            (";x", "http://a/b/c/;x"),
            ("g;x", "http://a/b/c/g;x"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../", "http://a/"),
            ("../../g", "http://a/g"),
            ("../../../g", "http://a/g"),
            ("../../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            (".g", "http://a/b/c/.g"),
            ("g..", "http://a/b/c/g.."),
            ("..g", "http://a/b/c/..g"),
            ("./../g", "http://a/b/g"),
            ("./g/.", "http://a/b/c/g/"),
            ("g/./h", "http://a/b/c/g/h"),
            ("g/../h", "http://a/b/c/h"),
            ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
            ("g;x=1/../y", "http://a/b/c/y"),
        ];
        for (r, want) in cases {
            assert_eq!(resolve(base, r), want, "resolving {r:?}");
        }
    }

    #[test]
    fn forms() {
        assert!(is_absolute_iri("urn:uuid:1"));
        assert!(is_absolute_iri("did:key:z6Mk"));
        assert!(!is_absolute_iri("foo"));
        assert!(!is_absolute_iri("1a:b"));
        assert!(has_keyword_form("@foo"));
        assert!(!has_keyword_form("@"));
        assert!(!has_keyword_form("@foo1"));
        assert!(is_well_formed_language("en-CA"));
        assert!(!is_well_formed_language("en CA"));
        assert!(!is_well_formed_iri("http://a b"));
    }
}
