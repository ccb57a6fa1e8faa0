//! The filter language: text ([`lexer`], [`parser`]) → [`Filter`] ([`ast`]) →
//! canonical text ([`print`](mod@print)); the field registry and its semantics ([`fields`]);
//! positioned errors with suggestions ([`error`]); completion ([`complete`](mod@complete)).
//!
//! ```text
//! from:*@contoso-billing.com threat:phish,malware -location:quarantine since:7d
//! (is:priority OR tag:finance) subject:"wire transfer" size:>100000
//! ```

pub mod ast;
pub mod complete;
pub mod error;
pub mod fields;
pub mod lexer;
pub mod parser;
pub mod print;

#[cfg(test)]
mod tests;

pub use ast::{CmpOp, Expr, Filter, SpanUnit, Term, TimeFilter, TimePoint};
pub use complete::{Candidate, Completion, NoValues, ValueSource, complete};
pub use error::ParseError;
pub use fields::{Entity, Field, FieldSpec, ValueKind};
pub use parser::parse;
pub use print::print;
