//! The one door for untrusted text on its way to a terminal.
//!
//! Attackers write subjects, display names, file names and URLs. Before any of them
//! is drawn or printed, control characters (C0, DEL, C1 — including the ESC that
//! starts CSI/OSC sequences and the 8-bit CSI), bidirectional overrides and isolates,
//! and zero-width characters are replaced by visible placeholders, so nothing can
//! move the cursor, retitle the window, write the clipboard or reorder what the
//! analyst reads. Every other invisible or format character — soft hyphen, Unicode
//! tag characters (U+E0000–E007F, which smuggle hidden ASCII), variation selectors,
//! Hangul fillers, and the whole of the general categories Cf (format), Co (private
//! use) and Cn (unassigned) — is shown as `⟨U+XXXX⟩` (or a short name), so hidden text
//! becomes visible text. Copy and export use the raw value; only display goes through here.

use std::borrow::Cow;

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// The placeholder shown for `c`, or `None` when `c` is safe to print.
pub fn placeholder(c: char) -> Option<Cow<'static, str>> {
    let p: &'static str = match c {
        '\u{1b}' => "␛",
        '\t' => "␉",
        '\n' => "␤",
        '\r' => "␍",
        '\u{7}' => "␇",
        '\u{8}' => "␈",
        '\u{7f}' => "␡",
        '\u{0}'..='\u{1f}' => {
            // Control Pictures: U+2400 + code.
            return char::from_u32(0x2400 + c as u32).map(|p| Cow::Owned(p.to_string()));
        }
        '\u{80}'..='\u{9f}' => return Some(Cow::Owned(format!("⟨C1:{:02X}⟩", c as u32))),
        '\u{202a}' => "⟨LRE⟩",
        '\u{202b}' => "⟨RLE⟩",
        '\u{202c}' => "⟨PDF⟩",
        '\u{202d}' => "⟨LRO⟩",
        '\u{202e}' => "⟨RLO⟩",
        '\u{2066}' => "⟨LRI⟩",
        '\u{2067}' => "⟨RLI⟩",
        '\u{2068}' => "⟨FSI⟩",
        '\u{2069}' => "⟨PDI⟩",
        '\u{200e}' => "⟨LRM⟩",
        '\u{200f}' => "⟨RLM⟩",
        '\u{61c}' => "⟨ALM⟩",
        '\u{200b}' => "⟨ZWSP⟩",
        '\u{200c}' => "⟨ZWNJ⟩",
        '\u{200d}' => "⟨ZWJ⟩",
        '\u{2060}' => "⟨WJ⟩",
        '\u{feff}' => "⟨BOM⟩",
        '\u{2028}' => "⟨LS⟩",
        '\u{2029}' => "⟨PS⟩",
        '\u{ad}' => "⟨SHY⟩",
        // Variation selectors change how the character before them looks (emoji or
        // text style, CJK variants) and are otherwise invisible.
        '\u{fe00}'..='\u{fe0f}' => {
            return Some(Cow::Owned(format!("⟨VS{}⟩", c as u32 - 0xfe00 + 1)));
        }
        '\u{e0100}'..='\u{e01ef}' => {
            return Some(Cow::Owned(format!("⟨VS{}⟩", c as u32 - 0xe0100 + 17)));
        }
        // Invisible though not of category Cf: the combining grapheme joiner, the
        // Hangul fillers and the Mongolian free variation selectors.
        '\u{34f}' | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' | '\u{180b}'..='\u{180f}' => {
            return Some(hex(c));
        }
        _ if c.is_ascii() => return None,
        _ => {
            return matches!(
                get_general_category(c),
                GeneralCategory::Format
                    | GeneralCategory::PrivateUse
                    | GeneralCategory::Unassigned
                    | GeneralCategory::Surrogate
            )
            .then(|| hex(c));
        }
    };
    Some(Cow::Borrowed(p))
}

fn hex(c: char) -> Cow<'static, str> {
    Cow::Owned(format!("⟨U+{:04X}⟩", c as u32))
}

/// Whether `s` is printable ASCII only, which needs no sanitising (most cells).
fn plain_ascii(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// `s` made safe to draw: every dangerous character replaced by its placeholder.
/// Borrowed when nothing needed replacing (the common case).
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if plain_ascii(s) || !s.chars().any(|c| placeholder(c).is_some()) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match placeholder(c) {
            Some(p) => out.push_str(&p),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Columns `s` takes on a terminal (wide CJK and emoji count two). Call on
/// sanitized text.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Sanitizes `s` and cuts it to at most `max` columns, ending with `…` when cut.
/// The cut falls between grapheme clusters, so a letter never loses its accent and a
/// flag is never halved.
pub fn fit(s: &str, max: usize) -> String {
    let safe = sanitize(s);
    if width(&safe) <= max {
        return safe.into_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for g in safe.graphemes(true) {
        let w = width(g);
        if used + w + 1 > max {
            break;
        }
        out.push_str(g);
        used += w;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// Escapes `json` text so that no character a terminal could act on remains, even
/// inside strings (C1 controls, bidi and zero-width characters become `\uXXXX`).
/// The JSON value is unchanged: parsing it gives back the raw strings byte for byte.
/// Line breaks are left alone: serde_json escapes every control character inside a
/// string, so a raw one is pretty-printing's whitespace, where `\u000a` is invalid.
pub fn terminal_safe_json(json: &str) -> Cow<'_, str> {
    let escape = |c: char| c != '\n' && placeholder(c).is_some();
    if !json.chars().any(escape) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if escape(c) {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_raw_danger(s: &str) -> bool {
        s.chars().any(|c| placeholder(c).is_some())
    }

    #[test]
    fn every_simulated_hostile_string_comes_out_inert() {
        for s in whalewatch_sim::world::hostile_subjects() {
            let safe = sanitize(&s);
            assert!(!has_raw_danger(&safe), "{safe:?}");
        }
        assert_eq!(
            sanitize("Invoice \u{1b}]2;ww-title-injected\u{7}"),
            "Invoice ␛]2;ww-title-injected␇"
        );
        assert_eq!(sanitize("invoice\u{202e}fdp.exe"), "invoice⟨RLO⟩fdp.exe");
        assert_eq!(sanitize("plain"), Cow::Borrowed("plain"));
    }

    #[test]
    fn widths_count_wide_characters_and_fit_cuts_on_characters() {
        assert_eq!(width("請確認"), 6);
        assert_eq!(fit("請確認您的帳戶", 7), "請確認…");
        assert_eq!(fit("abc", 5), "abc");
        assert!(width(&fit(&"x".repeat(2000), 40)) <= 40);
    }

    #[test]
    fn hidden_and_format_characters_are_shown() {
        // "hi" in tag characters after a visible word: hidden text in a subject.
        assert_eq!(sanitize("ok\u{e0068}\u{e0069}"), "ok⟨U+E0068⟩⟨U+E0069⟩");
        assert_eq!(sanitize("pay\u{ad}pal"), "pay⟨SHY⟩pal");
        assert_eq!(sanitize("a\u{fe0f}b\u{e0100}"), "a⟨VS16⟩b⟨VS17⟩");
        assert_eq!(sanitize("\u{e000}\u{10fffd}"), "⟨U+E000⟩⟨U+10FFFD⟩");
        assert_eq!(sanitize("x\u{3164}y"), "x⟨U+3164⟩y");
        // Ordinary non-ASCII text is left alone.
        assert!(matches!(sanitize("Grüße 請確認 🐋"), Cow::Borrowed(_)));
    }

    /// Every scalar value of category Cf, Co or Cn (all of Unicode, not a sample)
    /// comes out as a visible placeholder with no invisible character left.
    #[test]
    fn every_format_private_or_unassigned_character_is_neutralised() {
        let mut checked = 0u32;
        for c in (0..=0x10_ffffu32).filter_map(char::from_u32) {
            if !matches!(
                get_general_category(c),
                GeneralCategory::Format | GeneralCategory::PrivateUse | GeneralCategory::Unassigned
            ) {
                continue;
            }
            let s = format!("a{c}b");
            let safe = sanitize(&s);
            assert!(!safe.contains(c), "U+{:04X} got through", c as u32);
            assert!(!has_raw_danger(&safe), "U+{:04X}: {safe:?}", c as u32);
            assert!(width(&safe) > 2, "U+{:04X} is shown", c as u32);
            checked += 1;
        }
        // Unicode 16: ~170 Cf, ~137,000 Co, ~819,000 Cn.
        assert!(checked > 900_000, "{checked}");
    }

    #[test]
    fn fit_cuts_between_graphemes() {
        // "e" + combining acute is one grapheme: never cut between them.
        let s = "e\u{301}e\u{301}e\u{301}e\u{301}";
        assert_eq!(fit(s, 3), "e\u{301}e\u{301}…");
        // A flag is two regional indicators, one grapheme, two columns.
        assert_eq!(fit("🇫🇷🇫🇷🇫🇷", 4), "🇫🇷…");
    }

    #[test]
    fn json_stays_equal_in_value() {
        let raw = "a\u{9b}31m \u{202e}x \u{1b}[2J";
        let json = serde_json::to_string(&raw).unwrap();
        let safe = terminal_safe_json(&json);
        assert!(!has_raw_danger(&safe));
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, raw);
    }

    #[test]
    fn pretty_printed_json_stays_valid() {
        let raw = serde_json::json!([{"subject": "a\nb\u{1b}[2J\u{202e}", "n": 1}]);
        let pretty = serde_json::to_string_pretty(&raw).unwrap();
        let safe = terminal_safe_json(&pretty);
        assert!(!safe.chars().any(|c| c != '\n' && placeholder(c).is_some()));
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, raw);
    }
}
