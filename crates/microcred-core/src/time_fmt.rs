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
    }
}
