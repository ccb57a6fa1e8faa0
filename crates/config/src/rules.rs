//! Tag rules over directory attributes: `department == 'Finance'`,
//! `job_title contains 'Chief'`, `country in ('DE', 'AT')`. Parsed when the config
//! loads, so a typo is reported with its position before any refresh runs.

use std::fmt;

use whalewatch_model::directory::User;

/// The attributes a rule can test, named as in the config.
pub const ATTRIBUTES: &[&str] = &[
    "department",
    "job_title",
    "country",
    "display_name",
    "upn",
    "mail",
    "given_name",
    "surname",
    "enabled",
];

/// What a rule is evaluated against: a directory user.
pub trait UserAttributes {
    /// The attribute's value, or `None` when the user has none.
    fn attribute(&self, name: &str) -> Option<String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Contains,
    StartsWith,
    EndsWith,
    In,
}

/// A parsed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    attribute: String,
    op: Op,
    values: Vec<String>,
    text: String,
}

/// Why a rule does not parse; `pos` is a character offset into the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule `{rule}`: {message} (at character {pos})")]
pub struct RuleError {
    pub rule: String,
    pub pos: usize,
    pub message: String,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

struct Cursor<'a> {
    chars: Vec<char>,
    i: usize,
    text: &'a str,
}

impl Cursor<'_> {
    fn skip_ws(&mut self) {
        while self.chars.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }
    fn err<T>(&self, message: impl Into<String>) -> Result<T, RuleError> {
        Err(RuleError {
            rule: self.text.to_string(),
            pos: self.i,
            message: message.into(),
        })
    }
    fn word(&mut self) -> String {
        self.skip_ws();
        let start = self.i;
        while self
            .chars
            .get(self.i)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            self.i += 1;
        }
        if self.i == start {
            while self
                .chars
                .get(self.i)
                .is_some_and(|c| matches!(c, '=' | '!'))
            {
                self.i += 1;
            }
        }
        self.chars[start..self.i].iter().collect()
    }
    fn quoted(&mut self) -> Result<String, RuleError> {
        self.skip_ws();
        let Some(&q) = self.chars.get(self.i).filter(|c| matches!(c, '\'' | '"')) else {
            return self.err("expected a quoted value such as 'Finance'");
        };
        self.i += 1;
        let mut v = String::new();
        loop {
            match self.chars.get(self.i) {
                None => return self.err("unterminated quoted value"),
                Some(c) if *c == q => {
                    self.i += 1;
                    return Ok(v);
                }
                Some(c) => {
                    v.push(*c);
                    self.i += 1;
                }
            }
        }
    }
}

impl Rule {
    /// Parses one rule.
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let mut c = Cursor {
            chars: text.chars().collect(),
            i: 0,
            text,
        };
        c.skip_ws();
        let attr_pos = c.i;
        let attribute = c.word().to_ascii_lowercase();
        if !ATTRIBUTES.contains(&attribute.as_str()) {
            c.i = attr_pos;
            return c.err(format!(
                "unknown attribute `{attribute}`; use one of {}",
                ATTRIBUTES.join(", ")
            ));
        }
        c.skip_ws();
        let op_pos = c.i;
        let op = match c.word().to_ascii_lowercase().as_str() {
            "==" => Op::Eq,
            "!=" => Op::Ne,
            "contains" => Op::Contains,
            "startswith" => Op::StartsWith,
            "endswith" => Op::EndsWith,
            "in" => Op::In,
            other => {
                c.i = op_pos;
                return c.err(format!(
                    "unknown operator `{other}`; use ==, !=, contains, startswith, endswith or in"
                ));
            }
        };
        let mut values = Vec::new();
        if op == Op::In {
            c.skip_ws();
            if c.chars.get(c.i) != Some(&'(') {
                return c.err("expected `(` after `in`");
            }
            c.i += 1;
            loop {
                values.push(c.quoted()?);
                c.skip_ws();
                match c.chars.get(c.i) {
                    Some(',') => c.i += 1,
                    Some(')') => {
                        c.i += 1;
                        break;
                    }
                    _ => return c.err("expected `,` or `)`"),
                }
            }
        } else {
            values.push(c.quoted()?);
        }
        c.skip_ws();
        if c.i < c.chars.len() {
            return c.err("unexpected text after the rule");
        }
        Ok(Rule {
            attribute,
            op,
            values,
            text: text.trim().to_string(),
        })
    }

    /// Whether `user` satisfies the rule. Comparisons ignore case, as directory
    /// attributes are typed by people.
    pub fn matches(&self, user: &dyn UserAttributes) -> bool {
        let Some(v) = user.attribute(&self.attribute) else {
            return self.op == Op::Ne;
        };
        let v = v.to_lowercase();
        let first = self
            .values
            .first()
            .map(|s| s.to_lowercase())
            .unwrap_or_default();
        match self.op {
            Op::Eq => v == first,
            Op::Ne => v != first,
            Op::Contains => v.contains(&first),
            Op::StartsWith => v.starts_with(&first),
            Op::EndsWith => v.ends_with(&first),
            Op::In => self.values.iter().any(|x| x.to_lowercase() == v),
        }
    }
}

/// Directory users are what tag rules test.
impl UserAttributes for User {
    fn attribute(&self, name: &str) -> Option<String> {
        match name {
            "department" => self.department.clone(),
            "job_title" => self.job_title.clone(),
            "country" => self.country.clone(),
            "display_name" => self.display_name.clone(),
            "upn" => self.user_principal_name.clone(),
            "mail" => self.mail.clone(),
            "given_name" => self.given_name.clone(),
            "surname" => self.surname.clone(),
            "enabled" => self.account_enabled.map(|e| e.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct U(HashMap<&'static str, &'static str>);
    impl UserAttributes for U {
        fn attribute(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|s| s.to_string())
        }
    }

    #[test]
    fn rules_from_the_documented_shape_match_case_insensitively() {
        let u = U(HashMap::from([
            ("department", "Finance"),
            ("job_title", "Chief Financial Officer"),
            ("country", "DE"),
        ]));
        for r in [
            "department == 'finance'",
            "job_title contains 'Chief'",
            "country == \"DE\"",
            "country in ('AT', 'de')",
            "department != 'Legal'",
        ] {
            assert!(Rule::parse(r).unwrap().matches(&u), "{r}");
        }
        for r in [
            "department == 'Legal'",
            "job_title startswith 'Vice'",
            "upn endswith '@fabrikam.com'",
        ] {
            assert!(!Rule::parse(r).unwrap().matches(&u), "{r}");
        }
    }

    #[test]
    fn bad_rules_name_the_problem_and_where() {
        let e = Rule::parse("departmnt == 'Finance'").unwrap_err();
        assert_eq!(e.pos, 0);
        assert!(e.message.contains("departmnt"));
        let e = Rule::parse("department = 'Finance'").unwrap_err();
        assert_eq!(e.pos, 11);
        assert!(Rule::parse("department == Finance").is_err());
        assert!(Rule::parse("department == 'Finance").is_err());
        assert!(Rule::parse("country in ('DE'").is_err());
        assert!(Rule::parse("department == 'x' extra").is_err());
    }
}
