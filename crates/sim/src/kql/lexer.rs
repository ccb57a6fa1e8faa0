//! Turns query text into tokens. Positions are 0-based character offsets into the
//! query, so error messages can point at the exact spot a user typed.
//!
//! Two KQL quirks are handled here rather than in the parser because they are
//! lexical: `datetime(2026-11-01T08:00:00Z)` takes an *unquoted* literal that would
//! otherwise tokenise as arithmetic, and timespan literals (`1d`, `100ms`) are a number
//! glued to a unit.

use super::KqlError;
use super::time;

/// One lexical token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(String),
    Long(i64),
    Real(f64),
    /// A timespan literal, in ticks.
    TimeSpan(i64),
    /// The raw text inside `datetime( ... )`, quotes removed.
    DateTime(String),
    Pipe,
    Comma,
    Semicolon,
    Colon,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Dot,
    DotDot,
    /// `=`
    Assign,
    /// `==`
    EqEq,
    /// `!=` (also `<>`)
    NotEq,
    /// `=~`
    EqTilde,
    /// `!~`
    NotTilde,
    /// `~` on its own (as in `in~`)
    Tilde,
    /// `!` on its own (as in `!has`, `!in`)
    Bang,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(s) => format!("string \"{s}\""),
            Tok::Long(n) => format!("number {n}"),
            Tok::Real(r) => format!("number {r}"),
            Tok::TimeSpan(_) => "a timespan literal".into(),
            Tok::DateTime(s) => format!("datetime({s})"),
            Tok::Eof => "the end of the query".into(),
            other => format!("`{}`", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::Pipe => "|",
            Tok::Comma => ",",
            Tok::Semicolon => ";",
            Tok::Colon => ":",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::Dot => ".",
            Tok::DotDot => "..",
            Tok::Assign => "=",
            Tok::EqEq => "==",
            Tok::NotEq => "!=",
            Tok::EqTilde => "=~",
            Tok::NotTilde => "!~",
            Tok::Tilde => "~",
            Tok::Bang => "!",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            _ => "?",
        }
    }
}

/// A token with its span (`pos..end`, character offsets).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
    pub end: usize,
}

/// Lexes the whole query; the last token is always `Eof`.
pub fn lex(src: &str) -> Result<Vec<Token>, KqlError> {
    let chars: Vec<char> = src.chars().collect();
    let mut lx = Lexer {
        c: &chars,
        i: 0,
        out: Vec::new(),
    };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer<'a> {
    c: &'a [char],
    i: usize,
    out: Vec<Token>,
}

fn syntax(pos: usize, message: impl Into<String>) -> KqlError {
    KqlError::Syntax {
        pos,
        message: message.into(),
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.c.get(self.i + k).copied()
    }

    fn push(&mut self, tok: Tok, pos: usize) {
        self.out.push(Token {
            tok,
            pos,
            end: self.i,
        });
    }

    fn run(&mut self) -> Result<(), KqlError> {
        while let Some(c) = self.peek(0) {
            let start = self.i;
            if c.is_whitespace() {
                self.i += 1;
            } else if c == '/' && self.peek(1) == Some('/') {
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.i += 1;
                }
            } else if c == '@' && matches!(self.peek(1), Some('"' | '\'')) {
                self.i += 1;
                let s = self.verbatim_string(start)?;
                self.push(Tok::Str(s), start);
            } else if c == '"' || c == '\'' {
                let s = self.string(start)?;
                self.push(Tok::Str(s), start);
            } else if c.is_ascii_digit() {
                let t = self.number(start)?;
                self.push(t, start);
            } else if is_ident_start(c) {
                while self.peek(0).is_some_and(is_ident_char) {
                    self.i += 1;
                }
                let word: String = self.c[start..self.i].iter().collect();
                if word == "datetime" && self.next_non_space() == Some('(') {
                    let raw = self.datetime_body(start)?;
                    self.push(Tok::DateTime(raw), start);
                } else {
                    self.push(Tok::Ident(word), start);
                }
            } else {
                let t = self.punct(c, start)?;
                self.push(t, start);
            }
        }
        let end = self.i;
        self.out.push(Token {
            tok: Tok::Eof,
            pos: end,
            end,
        });
        Ok(())
    }

    fn next_non_space(&self) -> Option<char> {
        self.c[self.i..]
            .iter()
            .copied()
            .find(|c| !c.is_whitespace())
    }

    fn punct(&mut self, c: char, start: usize) -> Result<Tok, KqlError> {
        let two = |a: char| self.peek(1) == Some(a);
        let (tok, len) = match c {
            '|' => (Tok::Pipe, 1),
            ',' => (Tok::Comma, 1),
            ';' => (Tok::Semicolon, 1),
            ':' => (Tok::Colon, 1),
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '[' => (Tok::LBracket, 1),
            ']' => (Tok::RBracket, 1),
            '{' => (Tok::LBrace, 1),
            '}' => (Tok::RBrace, 1),
            '.' if two('.') => (Tok::DotDot, 2),
            '.' => (Tok::Dot, 1),
            '=' if two('=') => (Tok::EqEq, 2),
            '=' if two('~') => (Tok::EqTilde, 2),
            '=' => (Tok::Assign, 1),
            '!' if two('=') => (Tok::NotEq, 2),
            '!' if two('~') => (Tok::NotTilde, 2),
            '!' => (Tok::Bang, 1),
            '~' => (Tok::Tilde, 1),
            '<' if two('=') => (Tok::Le, 2),
            '<' if two('>') => (Tok::NotEq, 2),
            '<' => (Tok::Lt, 1),
            '>' if two('=') => (Tok::Ge, 2),
            '>' => (Tok::Gt, 1),
            '+' => (Tok::Plus, 1),
            '-' => (Tok::Minus, 1),
            '*' => (Tok::Star, 1),
            '/' => (Tok::Slash, 1),
            '%' => (Tok::Percent, 1),
            other => return Err(syntax(start, format!("unexpected character `{other}`"))),
        };
        self.i += len;
        Ok(tok)
    }

    /// `"..."` or `'...'` with backslash escapes.
    fn string(&mut self, start: usize) -> Result<String, KqlError> {
        let quote = self.c[self.i];
        self.i += 1;
        let mut s = String::new();
        loop {
            let Some(c) = self.peek(0) else {
                return Err(syntax(start, "unterminated string literal"));
            };
            self.i += 1;
            if c == quote {
                return Ok(s);
            }
            if c == '\n' {
                return Err(syntax(
                    start,
                    "unterminated string literal (newline inside quotes)",
                ));
            }
            if c != '\\' {
                s.push(c);
                continue;
            }
            let esc_pos = self.i - 1;
            let Some(e) = self.peek(0) else {
                return Err(syntax(start, "unterminated string literal"));
            };
            self.i += 1;
            match e {
                '"' => s.push('"'),
                '\'' => s.push('\''),
                '\\' => s.push('\\'),
                'n' => s.push('\n'),
                't' => s.push('\t'),
                'r' => s.push('\r'),
                '0' => s.push('\0'),
                'u' => {
                    let hex: String = self
                        .c
                        .get(self.i..self.i + 4)
                        .unwrap_or(&[])
                        .iter()
                        .collect();
                    let code = (hex.len() == 4)
                        .then(|| u32::from_str_radix(&hex, 16).ok())
                        .flatten()
                        .and_then(char::from_u32);
                    match code {
                        Some(ch) => {
                            s.push(ch);
                            self.i += 4;
                        }
                        None => {
                            return Err(syntax(
                                esc_pos,
                                "invalid \\u escape: expected four hex digits of a valid character",
                            ));
                        }
                    }
                }
                other => {
                    return Err(syntax(
                        esc_pos,
                        format!("invalid escape sequence `\\{other}` in string"),
                    ));
                }
            }
        }
    }

    /// `@"..."`: no escapes; a doubled quote stands for one quote.
    fn verbatim_string(&mut self, start: usize) -> Result<String, KqlError> {
        let quote = self.c[self.i];
        self.i += 1;
        let mut s = String::new();
        loop {
            let Some(c) = self.peek(0) else {
                return Err(syntax(start, "unterminated verbatim string literal"));
            };
            self.i += 1;
            if c == quote {
                if self.peek(0) == Some(quote) {
                    self.i += 1;
                    s.push(quote);
                } else {
                    return Ok(s);
                }
            } else {
                s.push(c);
            }
        }
    }

    /// A long, real or timespan literal.
    fn number(&mut self, start: usize) -> Result<Tok, KqlError> {
        let digits = |lx: &mut Self| {
            while lx.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                lx.i += 1;
            }
        };
        digits(self);
        let mut is_real = false;
        if self.peek(0) == Some('.') && self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            is_real = true;
            self.i += 1;
            digits(self);
        }
        let mantissa_end = self.i;
        if matches!(self.peek(0), Some('e' | 'E')) {
            let signed = matches!(self.peek(1), Some('+' | '-'));
            let d = if signed { self.peek(2) } else { self.peek(1) };
            if d.is_some_and(|c| c.is_ascii_digit()) {
                is_real = true;
                self.i += if signed { 2 } else { 1 };
                digits(self);
            }
        }
        let text: String = self.c[start..self.i].iter().collect();
        let suffix_start = self.i;
        while self.peek(0).is_some_and(is_ident_char) {
            self.i += 1;
        }
        if self.i > suffix_start {
            if suffix_start != mantissa_end {
                // "1e5d" and the like: an exponent glued to a unit.
                return Err(syntax(start, "invalid number literal"));
            }
            let unit: String = self.c[suffix_start..self.i].iter().collect();
            return match time::timespan_literal(&text, &unit) {
                Some(ticks) => Ok(Tok::TimeSpan(ticks)),
                None if time::is_timespan_unit(&unit) => Err(syntax(
                    start,
                    format!("timespan literal `{text}{unit}` is out of range"),
                )),
                None => Err(syntax(
                    start,
                    format!(
                        "invalid literal `{text}{unit}`: a number may only be followed by a timespan \
                         unit (d, h, m, s, ms, microsecond, tick)"
                    ),
                )),
            };
        }
        if is_real {
            match text.parse::<f64>() {
                Ok(r) if r.is_finite() => Ok(Tok::Real(r)),
                _ => Err(syntax(
                    start,
                    format!("real literal `{text}` is out of range"),
                )),
            }
        } else {
            text.parse::<i64>().map(Tok::Long).map_err(|_| {
                syntax(
                    start,
                    format!("integer literal `{text}` is out of range for long"),
                )
            })
        }
    }

    /// After `datetime`: consumes `( ... )` and returns the inside, unquoted if quoted.
    fn datetime_body(&mut self, start: usize) -> Result<String, KqlError> {
        while self.peek(0).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
        self.i += 1; // '('
        while self.peek(0).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
        let raw = if matches!(self.peek(0), Some('"' | '\'')) {
            let qpos = self.i;
            self.string(qpos)?
        } else {
            let b = self.i;
            while self.peek(0).is_some_and(|c| c != ')' && c != '\n') {
                self.i += 1;
            }
            self.c[b..self.i]
                .iter()
                .collect::<String>()
                .trim()
                .to_string()
        };
        while self.peek(0).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
        if self.peek(0) != Some(')') {
            return Err(syntax(
                start,
                "unterminated datetime(...) literal: expected `)`",
            ));
        }
        self.i += 1;
        Ok(raw)
    }
}
