//! XML Schema `dateTime` values as used by VC 2.0 (`validFrom`, `created`, ...).

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Parses an XML Schema dateTime that carries a time zone (`2025-02-21T17:00:00Z`,
/// `2025-02-21T17:00:00.5+02:00`). Values without a zone are refused: their instant is unknown.
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Formats an instant as `YYYY-MM-DDThh:mm:ssZ` (UTC, whole seconds), the form used in proofs.
pub fn format(at: OffsetDateTime) -> String {
    let t = at.to_offset(UtcOffset::UTC);
    // Written digit by digit for years 0-9999: every proof made formats one, and `format!`
    // took about 0.3 µs of the ~4 µs a proof configuration cost before it was hashed from a
    // template.
    if let Ok(year @ 0..=9999) = u16::try_from(t.year()) {
        let mut out = [0u8; 20];
        let groups = [
            (year, 4, 0),
            (u16::from(u8::from(t.month())), 2, 5),
            (u16::from(t.day()), 2, 8),
            (u16::from(t.hour()), 2, 11),
            (u16::from(t.minute()), 2, 14),
            (u16::from(t.second()), 2, 17),
        ];
        for (value, width, at) in groups {
            let mut rest = value;
            for slot in out.iter_mut().skip(at).take(width).rev() {
                *slot = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
        }
        for (at, separator) in [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'Z'),
        ] {
            if let Some(slot) = out.get_mut(at) {
                *slot = separator;
            }
        }
        return String::from_utf8_lossy(&out).into_owned();
    }
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        let t = parse("2023-02-24T23:36:38Z").unwrap();
        assert_eq!(format(t), "2023-02-24T23:36:38Z");
        let t = parse("2023-02-25T01:36:38.25+02:00").unwrap();
        assert_eq!(format(t), "2023-02-24T23:36:38Z");
        assert!(parse("2023-02-24T23:36:38").is_none());
        assert!(parse("yesterday").is_none());
        for (at, text) in [
            (0, "1970-01-01T00:00:00Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
            (-62_167_219_200, "0000-01-01T00:00:00Z"),
            (1_733_425_199, "2024-12-05T18:59:59Z"),
        ] {
            let t = OffsetDateTime::from_unix_timestamp(at).unwrap();
            assert_eq!(format(t), text);
            assert_eq!(parse(text), Some(t));
        }
    }
}
