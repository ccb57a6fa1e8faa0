//! Filter text → tokens. A term is a bare word, a quoted phrase, or `field:` followed
//! by a comma-separated list of values, each bare or quoted. Bare words and values end
//! at whitespace, parentheses and quotes (values also at commas), so RFC 3339 times
//! (`until:2026-11-01T10:00:00Z`) need no quotes. Inside quotes, `\"` is a quote and
//! `\\` a backslash; any other escape is an error.

use super::error::ParseError;

/// One value of a `field:` term, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawValue {
    /// The value with quotes and escapes removed.
    pub text: String,
    /// Whether it was quoted (quoted values are never read as comparisons).
    pub quoted: bool,
    /// Byte offset where it starts (its opening quote, if quoted).
    pub start: usize,
}

/// A token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// `(`.
    LParen,
    /// `)`.
    RParen,
    /// `-` directly before a term.
    Minus,
    /// `OR` (any case).
    Or,
    /// `AND` (any case).
    And,
    /// `NOT` (any case).
    Not,
    /// A bare word.
    Word(String),
    /// A quoted phrase outside a field.
    Quoted(String),
    /// `name:v1,v2`.
    Field {
        /// The field name as written.
        name: String,
        /// At least one value.
        values: Vec<RawValue>,
    },
}

/// A token and its byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
}

/// Characters that end a bare word.
pub fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"')
}

/// Characters that end an unquoted value.
pub fn ends_value(c: char) -> bool {
    ends_word(c) || c == ','
}

/// Characters of a field name after the first letter.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_')
}

/// Splits `text` into tokens.
pub fn lex(text: &str) -> Result<Vec<Token>, ParseError> {
    let mut lx = Lexer {
        text,
        chars: text.char_indices().collect(),
        i: 0,
        out: Vec::new(),
    };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer<'a> {
    text: &'a str,
    chars: Vec<(usize, char)>,
    i: usize,
    out: Vec<Token>,
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).map(|&(_, c)| c)
    }

    /// Byte offset of the character at the cursor (the text's length at the end).
    fn byte(&self) -> usize {
        self.chars.get(self.i).map_or(self.text.len(), |&(b, _)| b)
    }

    fn err(&self, byte: usize, message: impl Into<String>) -> ParseError {
        ParseError::at(self.text, byte, message)
    }

    fn push(&mut self, tok: Tok, start: usize) {
        let end = self.byte();
        self.out.push(Token { tok, start, end });
    }

    fn run(&mut self) -> Result<(), ParseError> {
        while let Some(c) = self.peek(0) {
            let start = self.byte();
            if c.is_whitespace() {
                self.i += 1;
            } else if c == '(' {
                self.i += 1;
                self.push(Tok::LParen, start);
            } else if c == ')' {
                self.i += 1;
                self.push(Tok::RParen, start);
            } else if c == '-' {
                match self.peek(1) {
                    Some(n) if !n.is_whitespace() && n != ')' => {
                        self.i += 1;
                        self.push(Tok::Minus, start);
                    }
                    _ => {
                        return Err(self.err(
                            start,
                            "`-` must be directly followed by the term it negates",
                        ));
                    }
                }
            } else if c == '"' {
                let s = self.quoted()?;
                self.push(Tok::Quoted(s), start);
            } else if let Some(name) = self.field_name() {
                let values = self.values(&name)?;
                self.push(Tok::Field { name, values }, start);
            } else {
                let mut word = String::new();
                while let Some(c) = self.peek(0).filter(|&c| !ends_word(c)) {
                    word.push(c);
                    self.i += 1;
                }
                let tok = if word.eq_ignore_ascii_case("or") {
                    Tok::Or
                } else if word.eq_ignore_ascii_case("and") {
                    Tok::And
                } else if word.eq_ignore_ascii_case("not") {
                    Tok::Not
                } else {
                    Tok::Word(word)
                };
                self.push(tok, start);
            }
        }
        Ok(())
    }

    /// `name:` at the cursor: consumes it and returns the name; otherwise leaves the
    /// cursor where it was.
    fn field_name(&mut self) -> Option<String> {
        let first = self.peek(0)?;
        if !first.is_ascii_alphabetic() {
            return None;
        }
        let mut k = 1;
        while self.peek(k).is_some_and(is_name_char) {
            k += 1;
        }
        if self.peek(k) != Some(':') {
            return None;
        }
        let name: String = (0..k).filter_map(|j| self.peek(j)).collect();
        self.i += k + 1;
        Some(name)
    }

    /// The comma-separated values after `name:`.
    fn values(&mut self, name: &str) -> Result<Vec<RawValue>, ParseError> {
        let mut values = Vec::new();
        loop {
            let start = self.byte();
            let v = match self.peek(0) {
                Some('"') => RawValue {
                    text: self.quoted()?,
                    quoted: true,
                    start,
                },
                _ => {
                    let mut text = String::new();
                    while let Some(c) = self.peek(0).filter(|&c| !ends_value(c)) {
                        text.push(c);
                        self.i += 1;
                    }
                    if text.is_empty() {
                        let what = if values.is_empty() {
                            format!("missing value after `{name}:`")
                        } else {
                            "missing value after `,`".to_string()
                        };
                        return Err(self.err(start, what));
                    }
                    RawValue {
                        text,
                        quoted: false,
                        start,
                    }
                }
            };
            values.push(v);
            match self.peek(0) {
                Some(',') => self.i += 1,
                None => return Ok(values),
                Some(c) if c.is_whitespace() || c == '(' || c == ')' => return Ok(values),
                Some(c) => {
                    return Err(self.err(
                        self.byte(),
                        format!(
                            "unexpected `{c}` inside a value; quote the whole value (`{name}:\"...\"`)"
                        ),
                    ));
                }
            }
        }
    }

    /// A `"..."` string at the cursor, unescaped.
    fn quoted(&mut self) -> Result<String, ParseError> {
        let open = self.byte();
        self.i += 1;
        let mut s = String::new();
        loop {
            let Some(c) = self.peek(0) else {
                return Err(self.err(open, "unterminated quote: add the closing `\"`"));
            };
            let at = self.byte();
            self.i += 1;
            match c {
                '"' => return Ok(s),
                '\\' => match self.peek(0) {
                    Some(e @ ('"' | '\\')) => {
                        s.push(e);
                        self.i += 1;
                    }
                    Some(e) => {
                        return Err(self.err(
                            at,
                            format!(
                                "unknown escape `\\{e}` in quotes: write `\\\"` for a quote and `\\\\` for a backslash"
                            ),
                        ));
                    }
                    None => {
                        return Err(self.err(open, "unterminated quote: add the closing `\"`"));
                    }
                },
                c => s.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn terms_fields_and_groups() {
        assert_eq!(
            toks("-(from:a,\"b c\" OR x) y"),
            vec![
                Tok::Minus,
                Tok::LParen,
                Tok::Field {
                    name: "from".into(),
                    values: vec![
                        RawValue {
                            text: "a".into(),
                            quoted: false,
                            start: 7
                        },
                        RawValue {
                            text: "b c".into(),
                            quoted: true,
                            start: 9
                        },
                    ]
                },
                Tok::Or,
                Tok::Word("x".into()),
                Tok::RParen,
                Tok::Word("y".into()),
            ]
        );
    }

    #[test]
    fn datetimes_need_no_quotes() {
        assert_eq!(
            toks("until:2026-11-01T10:00:00Z"),
            vec![Tok::Field {
                name: "until".into(),
                values: vec![RawValue {
                    text: "2026-11-01T10:00:00Z".into(),
                    quoted: false,
                    start: 6
                }]
            }]
        );
    }

    #[test]
    fn escapes_and_errors() {
        assert_eq!(toks(r#""a\"b\\""#), vec![Tok::Quoted("a\"b\\".into())]);
        let e = lex(r#"subject:"a\qb""#).unwrap_err();
        assert_eq!(e.byte, 10);
        assert!(e.message.contains("unknown escape"), "{e}");
        let e = lex("x \"abc").unwrap_err();
        assert_eq!(e.byte, 2);
        assert!(lex("from:").unwrap_err().message.contains("missing value"));
        assert_eq!(lex("from:a,").unwrap_err().byte, 7);
        assert!(lex("a - b").is_err());
        assert!(lex("subject:\"a\"b").is_err());
    }

    #[test]
    fn words_with_colons_that_are_not_fields() {
        assert_eq!(toks("10:30"), vec![Tok::Word("10:30".into())]);
        assert_eq!(toks("or And NOT"), vec![Tok::Or, Tok::And, Tok::Not]);
    }
}
