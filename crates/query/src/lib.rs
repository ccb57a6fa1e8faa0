//! The query layer: one filter language for the console's filter bar, its `:` command
//! line and the CLI ([`lang`]), and its compiler to KQL for advanced hunting ([`kql`]),
//! so the same filter runs over the local cache or server-side through
//! `runHuntingQuery` with the same answer.

pub mod index;
pub mod kql;
pub mod lang;
pub mod posture;
pub mod records;

pub use kql::{CompileError, KqlQuery, TagResolver, compile};
pub use lang::{
    Entity, Expr, Field, Filter, ParseError, Term, TimeFilter, TimePoint, ValueSource, complete,
    parse, print,
};
