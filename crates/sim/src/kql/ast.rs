//! The parsed query: a source table and a pipeline of tabular operators over scalar
//! expressions. Every node keeps the position it started at so later phases (name
//! resolution, type checking) can point errors at the text.

use super::Value;

/// `Table | op | op ...`
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub table: String,
    pub table_pos: usize,
    pub ops: Vec<Op>,
}

/// One tabular operator.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub kind: OpKind,
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpKind {
    Where(Expr),
    Project(Vec<NamedExpr>),
    /// Column names or `*` wildcards.
    ProjectAway(Vec<(String, usize)>),
    Extend(Vec<NamedExpr>),
    Sort(Vec<SortKey>),
    Take(Expr),
    Top {
        count: Expr,
        key: SortKey,
    },
    Summarize {
        aggs: Vec<NamedExpr>,
        by: Vec<NamedExpr>,
    },
    Count,
    Distinct(Vec<NamedExpr>),
}

/// `Name = expr` or a bare `expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedExpr {
    pub name: Option<String>,
    pub expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub desc: bool,
    /// `Some(true)` for `nulls first`; `None` means the KQL default for the direction.
    pub nulls_first: Option<bool>,
}

/// A scalar expression with its starting position and nesting depth (bounded by the
/// parser so recursive phases cannot exhaust the stack).
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub pos: usize,
    pub depth: usize,
}

impl Expr {
    pub fn new(kind: ExprKind, pos: usize) -> Expr {
        let depth = 1 + match &kind {
            ExprKind::Literal(_) | ExprKind::Column(_) => 0,
            ExprKind::Unary(_, e) | ExprKind::Member(e, _) => e.depth,
            ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => a.depth.max(b.depth),
            ExprKind::Call(_, args) => args.iter().map(|a| a.depth).max().unwrap_or(0),
            ExprKind::List { lhs, items, .. } => items
                .iter()
                .map(|a| a.depth)
                .max()
                .unwrap_or(0)
                .max(lhs.depth),
            ExprKind::Between { lhs, lo, hi, .. } => lhs.depth.max(lo.depth).max(hi.depth),
            ExprKind::InQuery { lhs, .. } | ExprKind::InSet { lhs, .. } => lhs.depth,
        };
        Expr { kind, pos, depth }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Value),
    Column(String),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `name(args)`; the function name as written.
    Call(String, Vec<Expr>),
    /// `x.Name` on a dynamic value.
    Member(Box<Expr>, String),
    /// `x[0]` / `x["Name"]` on a dynamic value.
    Index(Box<Expr>, Box<Expr>),
    /// `x in (...)`, `x !in~ (...)`, `x has_any (...)`.
    List {
        op: ListOp,
        negated: bool,
        lhs: Box<Expr>,
        items: Vec<Expr>,
    },
    Between {
        negated: bool,
        lhs: Box<Expr>,
        lo: Box<Expr>,
        hi: Box<Expr>,
    },
    /// `x in ((T | ... | project Key))`: membership in a one-column subquery's result
    /// (`in`, `!in`, `in~`, `!in~`). Evaluation first runs the subquery once and
    /// replaces this node with [`ExprKind::InSet`].
    InQuery {
        negated: bool,
        ci: bool,
        lhs: Box<Expr>,
        query: Box<Query>,
    },
    /// A resolved [`ExprKind::InQuery`]: the subquery's values as a key set.
    InSet {
        negated: bool,
        lhs: Box<Expr>,
        set: std::sync::Arc<KeySet>,
    },
}

/// The distinct values of a subquery's single column, keyed for hashing (see
/// `eval::subquery::set_key`); `ci` keys strings lowercased for `in~`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySet {
    pub ci: bool,
    /// The column's type, checked against the left-hand side.
    pub ty: super::ColumnType,
    pub keys: std::collections::HashSet<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOp {
    In,
    InCi,
    HasAny,
}

/// Binary operators. String operators carry whether they are negated (`!has`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    EqCi,
    NeCi,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Str(StrOp, bool),
}

/// The string-matching operators, by semantics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrOp {
    Has,
    HasCs,
    Contains,
    ContainsCs,
    StartsWith,
    StartsWithCs,
    EndsWith,
    EndsWithCs,
    HasPrefix,
    HasSuffix,
}

impl BinOp {
    /// The operator as written, for error messages.
    pub fn symbol(self) -> String {
        let s = match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::EqCi => "=~",
            BinOp::NeCi => "!~",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Str(op, neg) => return format!("{}{}", if neg { "!" } else { "" }, op.name()),
        };
        s.to_string()
    }
}

impl StrOp {
    pub fn name(self) -> &'static str {
        match self {
            StrOp::Has => "has",
            StrOp::HasCs => "has_cs",
            StrOp::Contains => "contains",
            StrOp::ContainsCs => "contains_cs",
            StrOp::StartsWith => "startswith",
            StrOp::StartsWithCs => "startswith_cs",
            StrOp::EndsWith => "endswith",
            StrOp::EndsWithCs => "endswith_cs",
            StrOp::HasPrefix => "hasprefix",
            StrOp::HasSuffix => "hassuffix",
        }
    }

    pub fn from_name(s: &str) -> Option<StrOp> {
        Some(match s {
            "has" => StrOp::Has,
            "has_cs" => StrOp::HasCs,
            "contains" => StrOp::Contains,
            "contains_cs" => StrOp::ContainsCs,
            "startswith" => StrOp::StartsWith,
            "startswith_cs" => StrOp::StartsWithCs,
            "endswith" => StrOp::EndsWith,
            "endswith_cs" => StrOp::EndsWithCs,
            "hasprefix" => StrOp::HasPrefix,
            "hassuffix" => StrOp::HasSuffix,
            _ => return None,
        })
    }

    pub fn case_sensitive(self) -> bool {
        matches!(
            self,
            StrOp::HasCs | StrOp::ContainsCs | StrOp::StartsWithCs | StrOp::EndsWithCs
        )
    }
}
