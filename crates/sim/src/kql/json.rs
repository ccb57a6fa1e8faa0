//! Values written straight into advanced hunting's JSON result form. A hunting
//! call returns up to 100,000 rows of ~40 columns: writing each value into the
//! response text, without a `serde_json::Value` or an owned string per value,
//! keeps the simulator from being the slowest part of a refresh it serves.

use std::fmt::Write as _;

use super::Value;

/// Appends one value as advanced hunting writes it into a result row.
pub fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Long(i) => {
            let _ = write!(out, "{i}");
        }
        Value::String(s) => write_escaped(out, s),
        Value::DateTime(t) => {
            out.push('"');
            super::table::write_datetime(out, *t);
            out.push('"');
        }
        other => out.push_str(&other.to_json().to_string()),
    }
}

/// Appends `s` as a JSON string literal. Control characters (which attackers put
/// in subjects) are escaped as `\u00XX`, so the wire carries them intact.
pub fn write_escaped(out: &mut String, s: &str) {
    out.push('"');
    write_escaped_inner(out, s);
    out.push('"');
}

/// Appends `s` escaped for the inside of a JSON string literal (no quotes).
pub fn write_escaped_inner(out: &mut String, s: &str) {
    // Most values need no escaping: one scan, eight bytes at a time, then a copy.
    if !needs_escape(s.as_bytes()) {
        out.push_str(s);
        return;
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// Whether `b` holds a control character, `"` or `\\`: eight bytes per step
/// (a word-at-a-time zero-byte test), the rest one by one.
fn needs_escape(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let v = u64::from_le_bytes(w);
        // A byte below 0x20, or equal to '"' (0x22) or '\\' (0x5c).
        let below = v.wrapping_sub(ONES * 0x20) & !v & HIGH != 0;
        if below || zero(v ^ (ONES * 0x22)) || zero(v ^ (ONES * 0x5c)) {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&c| c < 0x20 || c == b'"' || c == b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_scan_finds_every_byte_that_needs_escaping() {
        for len in 0..24 {
            for at in 0..len {
                for b in (0u8..0x20).chain([b'"', b'\\']) {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    assert!(needs_escape(&v), "{v:?}");
                }
                for b in [0x20u8, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff] {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    assert!(!needs_escape(&v), "{v:?}");
                }
            }
        }
    }

    #[test]
    fn escaping_matches_serde_json_for_hostile_text() {
        for s in crate::world::hostile_subjects() {
            let mut out = String::new();
            write_escaped(&mut out, &s);
            assert_eq!(out, serde_json::to_string(&s).unwrap());
            let back: String = serde_json::from_str(&out).unwrap();
            assert_eq!(back, s);
        }
    }
}
