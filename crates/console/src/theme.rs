//! Colours and emphasis. Three palettes: full colour, the 16 ANSI colours (for
//! terminals and multiplexers that mangle RGB), and none (`NO_COLOR`). Status is never
//! conveyed by colour alone: every coloured state also has a word or a symbol.

use ratatui::style::{Color, Modifier, Style};

/// Which palette to draw with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Palette {
    Full,
    Ansi16,
    None,
}

impl Palette {
    /// `NO_COLOR` (any value) wins; `WHALEWATCH_COLORS=16` asks for the 16-colour set.
    pub fn from_env() -> Palette {
        Palette::from_vars(
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("WHALEWATCH_COLORS").as_deref(),
        )
    }

    /// The palette for these values of `NO_COLOR` and `WHALEWATCH_COLORS`.
    pub fn from_vars(
        no_color: Option<&std::ffi::OsStr>,
        colors: Option<&std::ffi::OsStr>,
    ) -> Palette {
        if no_color.is_some_and(|v| !v.is_empty()) {
            Palette::None
        } else if colors.is_some_and(|v| v == "16") {
            Palette::Ansi16
        } else {
            Palette::Full
        }
    }
}

/// Rewrites the 16 standard colours in a frame's SGR sequences from the 256-colour
/// form crossterm writes (`ESC[38;5;12m`) to the classic codes every terminal knows
/// (`ESC[94m`), so the 16-colour palette works where 256 colours do not. Everything
/// else (RGB, indexes past 15, attributes, text) passes unchanged; the frame's text
/// has been sanitised, so every `ESC[` in it starts a sequence the renderer wrote.
pub fn classic_sgr(frame: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len());
    let mut i = 0;
    while i < frame.len() {
        if frame[i..].starts_with(b"\x1b[") {
            let params = i + 2;
            let len = frame[params..]
                .iter()
                .position(|b| !(b.is_ascii_digit() || *b == b';'))
                .unwrap_or(frame.len() - params);
            if frame.get(params + len) == Some(&b'm') {
                out.extend_from_slice(b"\x1b[");
                out.extend_from_slice(&classic_params(&frame[params..params + len]));
                out.push(b'm');
                i = params + len + 1;
                continue;
            }
        }
        out.push(frame[i]);
        i += 1;
    }
    out
}

/// One SGR parameter list with `38;5;N` / `48;5;N` (N < 16) made classic.
fn classic_params(params: &[u8]) -> Vec<u8> {
    let tokens: Vec<&[u8]> = params.split(|b| *b == b';').collect();
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let num = |t: &[u8]| {
        std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.parse::<u16>().ok())
    };
    let mut k = 0;
    while k < tokens.len() {
        let t = tokens[k];
        let here = num(t);
        // An extended colour: `5;N` (indexed) or `2;R;G;B` (kept as a unit).
        if matches!(here, Some(38 | 48 | 58)) {
            match (
                tokens.get(k + 1).and_then(|t| num(t)),
                tokens.get(k + 2).and_then(|t| num(t)),
            ) {
                (Some(5), Some(n)) if n < 16 && here != Some(58) => {
                    let base = if here == Some(38) { 30 } else { 40 };
                    let code = if n < 8 { base + n } else { base + 60 + n - 8 };
                    out.push(code.to_string());
                    k += 3;
                    continue;
                }
                (Some(5), _) => {
                    out.extend(
                        tokens[k..(k + 3).min(tokens.len())]
                            .iter()
                            .map(|t| String::from_utf8_lossy(t).into_owned()),
                    );
                    k += 3;
                    continue;
                }
                (Some(2), _) => {
                    out.extend(
                        tokens[k..(k + 5).min(tokens.len())]
                            .iter()
                            .map(|t| String::from_utf8_lossy(t).into_owned()),
                    );
                    k += 5;
                    continue;
                }
                _ => {}
            }
        }
        out.push(String::from_utf8_lossy(t).into_owned());
        k += 1;
    }
    out.join(";").into_bytes()
}

/// The styles views draw with.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub palette: Palette,
}

impl Theme {
    pub fn new(palette: Palette) -> Theme {
        Theme { palette }
    }

    fn fg(&self, full: Color, ansi: Color) -> Style {
        match self.palette {
            Palette::Full => Style::default().fg(full),
            Palette::Ansi16 => Style::default().fg(ansi),
            Palette::None => Style::default(),
        }
    }

    pub fn header(&self) -> Style {
        self.fg(Color::Rgb(130, 170, 255), Color::LightBlue)
            .add_modifier(Modifier::BOLD)
    }
    /// The row under the cursor: reversed, so it shows without colour too.
    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
    pub fn dim(&self) -> Style {
        match self.palette {
            Palette::None => Style::default(),
            _ => Style::default().add_modifier(Modifier::DIM),
        }
    }
    pub fn error(&self) -> Style {
        self.fg(Color::Rgb(255, 110, 110), Color::LightRed)
            .add_modifier(Modifier::BOLD)
    }
    pub fn accent(&self) -> Style {
        self.fg(Color::Rgb(255, 200, 90), Color::Yellow)
    }
    /// Severity and threat words get a colour in addition to the word itself.
    pub fn severity(&self, word: &str) -> Style {
        match word.to_ascii_lowercase().as_str() {
            "high" | "malware" | "phish" => self.fg(Color::Rgb(255, 110, 110), Color::LightRed),
            "medium" | "spam" => self.fg(Color::Rgb(255, 200, 90), Color::Yellow),
            "low" => self.fg(Color::Rgb(130, 200, 255), Color::Cyan),
            _ => Style::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn no_color_wins_and_16_asks_for_the_standard_set() {
        let v = |s: &'static str| Some(OsStr::new(s));
        assert_eq!(Palette::from_vars(None, None), Palette::Full);
        assert_eq!(Palette::from_vars(None, v("16")), Palette::Ansi16);
        assert_eq!(Palette::from_vars(v("1"), v("16")), Palette::None);
        assert_eq!(
            Palette::from_vars(v(""), None),
            Palette::Full,
            "empty NO_COLOR is unset"
        );
        assert_eq!(Palette::from_vars(None, v("256")), Palette::Full);
    }

    #[test]
    fn standard_colours_become_classic_sgr_and_the_rest_passes() {
        let f = |s: &str| String::from_utf8(classic_sgr(s.as_bytes())).unwrap();
        assert_eq!(f("\x1b[38;5;12mX"), "\x1b[94mX");
        assert_eq!(f("\x1b[38;5;1;48;5;0m"), "\x1b[31;40m");
        assert_eq!(f("\x1b[38;5;9;49m"), "\x1b[91;49m");
        assert_eq!(f("\x1b[48;5;15m"), "\x1b[107m");
        // RGB (whose `5` is a component, not the indexed marker), indexes past 15,
        // underline colours, attributes and text are left as they are.
        assert_eq!(f("\x1b[38;2;5;5;12m"), "\x1b[38;2;5;5;12m");
        assert_eq!(f("\x1b[38;5;200m"), "\x1b[38;5;200m");
        assert_eq!(f("\x1b[58;5;3m"), "\x1b[58;5;3m");
        assert_eq!(f("\x1b[1m38;5;12 \x1b[2J"), "\x1b[1m38;5;12 \x1b[2J");
        assert_eq!(f("tail \x1b[38;5"), "tail \x1b[38;5");
    }
}
