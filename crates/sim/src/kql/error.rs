//! Why a query failed. `Display` is the message advanced hunting returns in Graph's
//! error body, so each variant names the offending part and, where it helps, a fix.
//! Positions are 0-based character offsets into the query text.

/// Why a query failed; `Display` is the message the service returns.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KqlError {
    #[error("Syntax error at position {pos}: {message}")]
    Syntax { pos: usize, message: String },
    /// Valid KQL this simulator does not implement; `what` names the construct.
    #[error("Unsupported at position {pos}: {what}")]
    Unsupported { pos: usize, what: String },
    #[error("Unknown table `{name}`{}", did_you_mean(.suggestion))]
    UnknownTable {
        pos: usize,
        name: String,
        suggestion: Option<String>,
    },
    #[error("Failed to resolve column `{name}` at position {pos}{}", did_you_mean(.suggestion))]
    UnknownColumn {
        pos: usize,
        name: String,
        suggestion: Option<String>,
    },
    /// A type mismatch found before any row is read (KQL is statically typed).
    #[error("Type error at position {pos}: {message}")]
    Type { pos: usize, message: String },
    /// A well-typed but unacceptable argument (a negative `take`, a wrong arity).
    #[error("Invalid argument at position {pos}: {message}")]
    InvalidArgument { pos: usize, message: String },
    #[error(
        "Query result exceeded the {}-row limit. Narrow the time range, add filters, \
         or reduce the result with `summarize` or `take`.",
        thousands(*.limit)
    )]
    TooManyRows { limit: usize },
    /// The `Timespan` request parameter could not be understood.
    #[error("Invalid Timespan `{value}`: {reason}")]
    InvalidTimespan { value: String, reason: String },
}

/// `100000` → `100,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn did_you_mean(s: &Option<String>) -> String {
    match s {
        Some(s) => format!(". Did you mean `{s}`?"),
        None => String::new(),
    }
}

/// The candidate closest to `name` (case-insensitive match first, then edit distance
/// at most a third of the name's length), for "did you mean" hints.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = if c.to_lowercase() == lower {
            0
        } else {
            strsim::levenshtein(&lower, &c.to_lowercase())
        };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let limit = (name.chars().count() / 3).max(1);
    best.filter(|(d, _)| *d <= limit)
        .map(|(_, c)| c.to_string())
}
