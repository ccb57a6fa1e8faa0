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
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            Palette::None
        } else if std::env::var("WHALEWATCH_COLORS").is_ok_and(|v| v == "16") {
            Palette::Ansi16
        } else {
            Palette::Full
        }
    }
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
