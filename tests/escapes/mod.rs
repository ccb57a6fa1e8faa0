#![allow(dead_code)]
//! Reads what a program wrote to a terminal as a terminal would, sequence by
//! sequence, and lists everything in it that could act on the terminal beyond what
//! the console itself writes: the checks behind "hostile text stays inert".

/// One thing in the output that is not plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sequence {
    /// `ESC [ params final`: `private` is the `?`/`>`/`<`/`=` after `[`, if any.
    Csi {
        private: Option<u8>,
        params: String,
        final_byte: u8,
    },
    /// `ESC ] body (BEL | ESC \)`.
    Osc { body: String },
    /// Any other `ESC x`.
    Esc(u8),
    /// A C0 control (other than CR, LF and BS, which ratatui and the shell write).
    Control(u8),
    /// Output that ended inside a sequence.
    Unterminated,
}

/// Every sequence in `bytes`, in order.
pub fn sequences(bytes: &[u8]) -> Vec<Sequence> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != 0x1b {
            if b < 0x20 && !matches!(b, b'\r' | b'\n' | 0x08) || b == 0x7f {
                out.push(Sequence::Control(b));
            }
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            None => {
                out.push(Sequence::Unterminated);
                break;
            }
            Some(b'[') => {
                let mut j = i + 2;
                let private = match bytes.get(j) {
                    Some(&p @ (b'?' | b'>' | b'<' | b'=')) => {
                        j += 1;
                        Some(p)
                    }
                    _ => None,
                };
                let start = j;
                while j < bytes.len() && (0x20..0x40).contains(&bytes[j]) {
                    j += 1;
                }
                match bytes.get(j) {
                    Some(&f) if (0x40..0x7f).contains(&f) => {
                        out.push(Sequence::Csi {
                            private,
                            params: String::from_utf8_lossy(&bytes[start..j]).into_owned(),
                            final_byte: f,
                        });
                        i = j + 1;
                    }
                    Some(_) => {
                        // A byte that cannot be part of a CSI: report what we saw.
                        out.push(Sequence::Csi {
                            private,
                            params: String::from_utf8_lossy(&bytes[start..j]).into_owned(),
                            final_byte: bytes[j],
                        });
                        i = j + 1;
                    }
                    None => {
                        out.push(Sequence::Unterminated);
                        break;
                    }
                }
            }
            Some(b']') => {
                let mut j = i + 2;
                let end = loop {
                    match bytes.get(j) {
                        None => break None,
                        Some(0x07) => break Some((j, j + 1)),
                        Some(0x1b) if bytes.get(j + 1) == Some(&b'\\') => break Some((j, j + 2)),
                        _ => j += 1,
                    }
                };
                match end {
                    Some((body_end, next)) => {
                        out.push(Sequence::Osc {
                            body: String::from_utf8_lossy(&bytes[i + 2..body_end]).into_owned(),
                        });
                        i = next;
                    }
                    None => {
                        out.push(Sequence::Unterminated);
                        break;
                    }
                }
            }
            Some(&x) => {
                out.push(Sequence::Esc(x));
                i += 2;
            }
        }
    }
    out
}

/// Characters that must never reach a terminal from remote text: C1 controls and
/// bidirectional overrides/isolates (checked on the decoded text, since C1 bytes
/// are also UTF-8 continuation bytes).
pub fn dangerous_chars(bytes: &[u8]) -> Vec<char> {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|&c| {
            matches!(c, '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

/// Problems in a whole program's output: any OSC but a clipboard write (OSC 52), a
/// bell outside a sequence, other C0 controls, C1 or bidi characters.
pub fn problems(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for s in sequences(bytes) {
        match &s {
            Sequence::Osc { body } if body.starts_with("52;") => {}
            Sequence::Osc { .. } | Sequence::Control(_) | Sequence::Unterminated => {
                out.push(format!("{s:?}"))
            }
            _ => {}
        }
    }
    for c in dangerous_chars(bytes) {
        out.push(format!("character U+{:04X}", c as u32));
    }
    out
}

/// Problems in one frame the renderer wrote: [`problems`], and moreover every escape
/// must be a CSI the renderer uses — SGR (`m`), cursor position (`H`, always with a
/// row and a column), erase (`J`, `K`), and private modes set and reset (`?…h/l`:
/// synchronized update `?2026`, cursor visibility `?25`). No OSC at all.
pub fn frame_problems(bytes: &[u8]) -> Vec<String> {
    let numeric = |p: &str| {
        p.chars()
            .all(|c| c.is_ascii_digit() || c == ';' || c == ':')
    };
    let mut out = Vec::new();
    for s in sequences(bytes) {
        let ok = match &s {
            Sequence::Csi {
                private: None,
                params,
                final_byte: b'm' | b'J' | b'K',
            } => numeric(params),
            Sequence::Csi {
                private: None,
                params,
                final_byte: b'H',
            } => params.split(';').count() == 2 && numeric(params) && !params.starts_with(';'),
            Sequence::Csi {
                private: Some(b'?'),
                params,
                final_byte: b'h' | b'l',
            } => numeric(params),
            _ => false,
        };
        if !ok {
            out.push(format!("{s:?}"));
        }
    }
    for c in dangerous_chars(bytes) {
        out.push(format!("character U+{:04X}", c as u32));
    }
    out
}

#[test]
fn the_scanner_finds_what_hostile_text_would_do() {
    let all = sequences(b"a\x1b[31mb\x1b]2;t\x07c\x07\x1b]52;c;Zm9v\x1b\\\x1b[?2026h\x1bM");
    assert_eq!(
        all,
        vec![
            Sequence::Csi {
                private: None,
                params: "31".into(),
                final_byte: b'm'
            },
            Sequence::Osc { body: "2;t".into() },
            Sequence::Control(7),
            Sequence::Osc {
                body: "52;c;Zm9v".into()
            },
            Sequence::Csi {
                private: Some(b'?'),
                params: "2026".into(),
                final_byte: b'h'
            },
            Sequence::Esc(b'M'),
        ]
    );
    assert_eq!(problems(b"ok \x1b]52;c;Zm9v\x07 \xc2\x9b").len(), 1);
    assert_eq!(problems("x\u{202e}y".as_bytes()).len(), 1);
    assert!(frame_problems(b"\x1b[1;1H\x1b[0m\x1b[K\x1b[?25l\x1b[38;5;12m").is_empty());
    assert_eq!(frame_problems(b"\x1b[H\x1b[4h").len(), 2);
    assert_eq!(frame_problems(b"\x1b[2A\x1b]8;;x\x1b\\").len(), 2);
}
