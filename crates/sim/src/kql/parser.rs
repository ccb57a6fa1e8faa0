//! Recursive-descent parser from tokens to the AST. Scalar expressions use precedence
//! climbing (`or` < `and` < comparisons and string operators < `+ -` < `* / %` <
//! unary < postfix). Nesting is bounded by [`MAX_DEPTH`] so hostile input yields an
//! error, never a stack overflow.
//!
//! Known-but-unimplemented KQL (operators like `join`, `let` statements, `matches
//! regex`) is reported as [`KqlError::Unsupported`] naming the construct, so a user can
//! tell "the simulator lacks this" from "my query is wrong".

use std::sync::Arc;

use super::ast::*;
use super::lexer::{Tok, Token, lex};
use super::{KqlError, Value, time};

/// Maximum nesting of scalar expressions (parentheses, calls, operator chains).
pub const MAX_DEPTH: usize = 200;

/// Parses a whole query.
pub fn parse(src: &str) -> Result<Query, KqlError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        i: 0,
        depth: 0,
    };
    p.query()
}

/// KQL tabular operators this simulator recognises but does not implement.
const UNSUPPORTED_OPERATORS: &[&str] = &[
    "join",
    "union",
    "lookup",
    "mv-expand",
    "mv-apply",
    "parse",
    "parse-where",
    "parse-kv",
    "render",
    "evaluate",
    "invoke",
    "make-series",
    "as",
    "getschema",
    "search",
    "find",
    "serialize",
    "sample",
    "sample-distinct",
    "fork",
    "facet",
    "partition",
    "scan",
    "project-rename",
    "project-keep",
    "project-reorder",
    "top-nested",
    "top-hitters",
    "reduce",
    "consume",
    "extend-schema",
    "externaldata",
    "range",
    "print",
    "datatable",
];

const SUPPORTED_OPERATORS: &str = "where, project, project-away, extend, summarize, count, distinct, order by, sort by, take, limit, top";

struct Parser {
    toks: Vec<Token>,
    i: usize,
    depth: usize,
}

fn syntax(pos: usize, message: impl Into<String>) -> KqlError {
    KqlError::Syntax {
        pos,
        message: message.into(),
    }
}

impl Parser {
    fn tok(&self) -> &Tok {
        self.tok_at(0)
    }

    fn tok_at(&self, k: usize) -> &Tok {
        self.toks.get(self.i + k).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn pos(&self) -> usize {
        self.pos_at(0)
    }

    fn pos_at(&self, k: usize) -> usize {
        self.toks
            .get(self.i + k)
            .or(self.toks.last())
            .map_or(0, |t| t.pos)
    }

    /// Whether token `k` ahead starts exactly where token `k - 1` ends.
    fn adjacent(&self, k: usize) -> bool {
        let Some(prev) = (self.i + k).checked_sub(1) else {
            return false;
        };
        match (self.toks.get(prev), self.toks.get(self.i + k)) {
            (Some(a), Some(b)) => a.end == b.pos,
            _ => false,
        }
    }

    fn bump(&mut self) {
        if self.i < self.toks.len() {
            self.i += 1;
        }
    }

    fn is_ident(&self, k: usize, word: &str) -> bool {
        matches!(self.tok_at(k), Tok::Ident(s) if s == word)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.tok() == t {
            self.bump();
            true
        } else {
            false
        }
    }

    fn require(&mut self, t: &Tok, what: &str) -> Result<(), KqlError> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(syntax(
                self.pos(),
                format!("expected {what} but found {}", self.tok().describe()),
            ))
        }
    }

    fn ident(&mut self, what: &str) -> Result<(String, usize), KqlError> {
        let pos = self.pos();
        match self.tok().clone() {
            Tok::Ident(s) => {
                self.bump();
                Ok((s, pos))
            }
            other => Err(syntax(
                pos,
                format!("expected {what} but found {}", other.describe()),
            )),
        }
    }

    /// A column name: an identifier or `['name']`.
    fn column_name(&mut self, what: &str) -> Result<(String, usize), KqlError> {
        let pos = self.pos();
        if *self.tok() == Tok::LBracket
            && let Tok::Str(s) = self.tok_at(1).clone()
        {
            self.bump();
            self.bump();
            self.require(&Tok::RBracket, "`]`")?;
            return Ok((s, pos));
        }
        self.ident(what)
    }

    fn query(&mut self) -> Result<Query, KqlError> {
        let pos = self.pos();
        if self.is_ident(0, "let") {
            return Err(KqlError::Unsupported {
                pos,
                what:
                    "`let` statements are not supported by this simulator; inline the value instead"
                        .into(),
            });
        }
        let (table, table_pos) = match self.tok().clone() {
            Tok::Ident(s) => {
                let name = self.hyphenated(s);
                if UNSUPPORTED_OPERATORS.contains(&name.as_str()) {
                    return Err(unsupported_operator(pos, &name));
                }
                (name, pos)
            }
            Tok::Eof => return Err(syntax(pos, "the query is empty; expected a table name")),
            other => {
                return Err(syntax(
                    pos,
                    format!("expected a table name but found {}", other.describe()),
                ));
            }
        };
        let mut ops = Vec::new();
        loop {
            match self.tok() {
                Tok::Eof => break,
                Tok::Pipe => {
                    self.bump();
                    ops.push(self.operator()?);
                }
                Tok::Semicolon => {
                    // A trailing `;` is harmless; a second statement is not supported.
                    self.bump();
                    if *self.tok() != Tok::Eof {
                        return Err(KqlError::Unsupported {
                            pos: self.pos(),
                            what: "multiple statements separated by `;` are not supported by this simulator"
                                .into(),
                        });
                    }
                }
                other => {
                    let prev = match ops.last() {
                        Some(_) => "after the operator",
                        None => "after the table name",
                    };
                    return Err(syntax(
                        self.pos(),
                        format!(
                            "unexpected {} {prev}; expected `|` or the end of the query",
                            other.describe()
                        ),
                    ));
                }
            }
        }
        Ok(Query {
            table,
            table_pos,
            ops,
        })
    }

    /// Glues `mv` `-` `expand` into `mv-expand` when written without spaces.
    fn hyphenated(&mut self, first: String) -> String {
        self.bump();
        let mut name = first;
        while *self.tok() == Tok::Minus
            && self.adjacent(0)
            && matches!(self.tok_at(1), Tok::Ident(_))
            && self.adjacent(1)
        {
            if let Tok::Ident(s) = self.tok_at(1).clone() {
                name.push('-');
                name.push_str(&s);
            }
            self.bump();
            self.bump();
        }
        name
    }

    fn operator(&mut self) -> Result<Op, KqlError> {
        let pos = self.pos();
        let name = match self.tok().clone() {
            Tok::Ident(s) => self.hyphenated(s),
            other => {
                return Err(syntax(
                    pos,
                    format!(
                        "expected a query operator after `|` but found {}",
                        other.describe()
                    ),
                ));
            }
        };
        let kind = match name.as_str() {
            "where" | "filter" => OpKind::Where(self.expr()?),
            "project" => OpKind::Project(self.named_list(false)?),
            "project-away" => OpKind::ProjectAway(self.name_patterns()?),
            "extend" => OpKind::Extend(self.named_list(false)?),
            "order" | "sort" => {
                if !self.is_ident(0, "by") {
                    return Err(syntax(self.pos(), format!("expected `by` after `{name}`")));
                }
                self.bump();
                let mut keys = vec![self.sort_key()?];
                while self.eat(&Tok::Comma) {
                    keys.push(self.sort_key()?);
                }
                OpKind::Sort(keys)
            }
            "take" | "limit" => OpKind::Take(self.expr()?),
            "top" => {
                let count = self.expr()?;
                if !self.is_ident(0, "by") {
                    return Err(syntax(
                        self.pos(),
                        "expected `by` after the row count of `top`",
                    ));
                }
                self.bump();
                OpKind::Top {
                    count,
                    key: self.sort_key()?,
                }
            }
            "summarize" => {
                let aggs = if self.is_ident(0, "by") {
                    Vec::new()
                } else {
                    self.named_list(true)?
                };
                let by = if self.is_ident(0, "by") {
                    self.bump();
                    self.named_list(false)?
                } else {
                    Vec::new()
                };
                if aggs.is_empty() && by.is_empty() {
                    return Err(syntax(
                        pos,
                        "`summarize` needs at least one aggregate or a `by` clause",
                    ));
                }
                OpKind::Summarize { aggs, by }
            }
            "count" => OpKind::Count,
            "distinct" => {
                if self.eat(&Tok::Star) {
                    OpKind::Distinct(Vec::new())
                } else {
                    OpKind::Distinct(self.named_list(false)?)
                }
            }
            other if UNSUPPORTED_OPERATORS.contains(&other) => {
                return Err(unsupported_operator(pos, other));
            }
            other => {
                return Err(syntax(
                    pos,
                    format!(
                        "unknown query operator `{other}`; supported operators are: {SUPPORTED_OPERATORS}"
                    ),
                ));
            }
        };
        Ok(Op { kind, pos })
    }

    /// `Name = expr, expr, ...`; with `stop_at_by`, a bare `by` ends the list.
    fn named_list(&mut self, stop_at_by: bool) -> Result<Vec<NamedExpr>, KqlError> {
        let mut out = Vec::new();
        loop {
            if stop_at_by && self.is_ident(0, "by") {
                break;
            }
            let name = match (self.tok().clone(), self.tok_at(1)) {
                (Tok::Ident(s), Tok::Assign) => {
                    self.bump();
                    self.bump();
                    Some(s)
                }
                (Tok::LBracket, _)
                    if matches!(self.tok_at(1), Tok::Str(_)) && *self.tok_at(3) == Tok::Assign =>
                {
                    let (s, _) = self.column_name("a column name")?;
                    self.bump();
                    Some(s)
                }
                _ => None,
            };
            out.push(NamedExpr {
                name,
                expr: self.expr()?,
            });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        Ok(out)
    }

    /// Column names or wildcard patterns (`Net*`) for `project-away`.
    fn name_patterns(&mut self) -> Result<Vec<(String, usize)>, KqlError> {
        let mut out = Vec::new();
        loop {
            let pos = self.pos();
            let mut pat = String::new();
            if *self.tok() == Tok::LBracket {
                pat = self.column_name("a column name")?.0;
            } else {
                loop {
                    match self.tok().clone() {
                        Tok::Ident(s) => pat.push_str(&s),
                        Tok::Star => pat.push('*'),
                        Tok::Long(n) if !pat.is_empty() => pat.push_str(&n.to_string()),
                        _ => break,
                    }
                    self.bump();
                    if !self.adjacent(0) {
                        break;
                    }
                }
            }
            if pat.is_empty() {
                return Err(syntax(
                    pos,
                    format!("expected a column name but found {}", self.tok().describe()),
                ));
            }
            out.push((pat, pos));
            if !self.eat(&Tok::Comma) {
                return Ok(out);
            }
        }
    }

    fn sort_key(&mut self) -> Result<SortKey, KqlError> {
        let expr = self.expr()?;
        let mut desc = true;
        if self.is_ident(0, "asc") {
            desc = false;
            self.bump();
        } else if self.is_ident(0, "desc") {
            self.bump();
        }
        let mut nulls_first = None;
        if self.is_ident(0, "nulls") {
            self.bump();
            if self.is_ident(0, "first") {
                nulls_first = Some(true);
            } else if self.is_ident(0, "last") {
                nulls_first = Some(false);
            } else {
                return Err(syntax(
                    self.pos(),
                    "expected `first` or `last` after `nulls`",
                ));
            }
            self.bump();
        }
        Ok(SortKey {
            expr,
            desc,
            nulls_first,
        })
    }

    // ---- scalar expressions ----

    fn expr(&mut self) -> Result<Expr, KqlError> {
        self.binary(1)
    }

    fn mk(&self, kind: ExprKind, pos: usize) -> Result<Expr, KqlError> {
        let e = Expr::new(kind, pos);
        if e.depth > MAX_DEPTH {
            return Err(syntax(
                pos,
                format!("expression is nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        Ok(e)
    }

    /// The binary operator at the cursor: (precedence, operator, tokens it spans).
    fn peek_binop(&self) -> Result<Option<(u8, Infix, usize)>, KqlError> {
        let bin = |prec: u8, op: BinOp| Some((prec, Infix::Bin(op), 1));
        let r = match self.tok() {
            Tok::EqEq => bin(3, BinOp::Eq),
            Tok::NotEq => bin(3, BinOp::Ne),
            Tok::EqTilde => bin(3, BinOp::EqCi),
            Tok::NotTilde => bin(3, BinOp::NeCi),
            Tok::Lt => bin(3, BinOp::Lt),
            Tok::Le => bin(3, BinOp::Le),
            Tok::Gt => bin(3, BinOp::Gt),
            Tok::Ge => bin(3, BinOp::Ge),
            Tok::Plus => bin(4, BinOp::Add),
            Tok::Minus => bin(4, BinOp::Sub),
            Tok::Star => bin(5, BinOp::Mul),
            Tok::Slash => bin(5, BinOp::Div),
            Tok::Percent => bin(5, BinOp::Mod),
            Tok::Ident(w) => self.word_op(w, false, 1)?,
            Tok::Bang => match self.tok_at(1) {
                Tok::Ident(w) => {
                    let w = w.clone();
                    match self.word_op(&w, true, 2)? {
                        Some(r) => Some(r),
                        None => {
                            return Err(syntax(self.pos(), format!("`!{w}` is not an operator")));
                        }
                    }
                }
                _ => None,
            },
            _ => None,
        };
        Ok(r)
    }

    /// Word operators (`and`, `has`, `in~`, `between`...), possibly negated with `!`.
    fn word_op(
        &self,
        w: &str,
        negated: bool,
        n: usize,
    ) -> Result<Option<(u8, Infix, usize)>, KqlError> {
        let tilde = *self.tok_at(n) == Tok::Tilde && self.adjacent(n);
        let r = match w {
            "or" if !negated => (1, Infix::Bin(BinOp::Or), 1),
            "and" if !negated => (2, Infix::Bin(BinOp::And), 1),
            "in" if tilde => (3, Infix::List(ListOp::InCi, negated), n + 1),
            "in" => (3, Infix::List(ListOp::In, negated), n),
            "has_any" if !negated => (3, Infix::List(ListOp::HasAny, false), n),
            "between" => (3, Infix::Between(negated), n),
            "matches" | "has_all" | "contains_any" | "has_any_cs" | "in_cs" | "hasprefix_cs"
            | "hassuffix_cs" => {
                let what = if w == "matches" {
                    "matches regex".to_string()
                } else {
                    w.to_string()
                };
                return Err(KqlError::Unsupported {
                    pos: self.pos(),
                    what: format!("the `{what}` operator is not supported by this simulator"),
                });
            }
            other => match StrOp::from_name(other) {
                Some(op) => (3, Infix::Bin(BinOp::Str(op, negated)), n),
                None => return Ok(None),
            },
        };
        Ok(Some(r))
    }

    fn binary(&mut self, min_prec: u8) -> Result<Expr, KqlError> {
        let mut lhs = self.unary()?;
        while let Some((prec, op, ntoks)) = self.peek_binop()? {
            if prec < min_prec {
                break;
            }
            let pos = self.pos();
            for _ in 0..ntoks {
                self.bump();
            }
            lhs = match op {
                Infix::Bin(op) => {
                    let rhs = self.binary(prec + 1)?;
                    self.mk(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), pos)?
                }
                Infix::List(op, negated) if op != ListOp::HasAny && self.subquery_follows() => {
                    let query = self.subquery()?;
                    self.mk(
                        ExprKind::InQuery {
                            negated,
                            ci: op == ListOp::InCi,
                            lhs: Box::new(lhs),
                            query: Box::new(query),
                        },
                        pos,
                    )?
                }
                Infix::List(op, negated) => {
                    let items = self.paren_list()?;
                    self.mk(
                        ExprKind::List {
                            op,
                            negated,
                            lhs: Box::new(lhs),
                            items,
                        },
                        pos,
                    )?
                }
                Infix::Between(negated) => {
                    self.require(&Tok::LParen, "`(` after `between`")?;
                    let lo = self.expr()?;
                    self.require(&Tok::DotDot, "`..` between the bounds of `between`")?;
                    let hi = self.expr()?;
                    self.require(&Tok::RParen, "`)` closing `between`")?;
                    let kind = ExprKind::Between {
                        negated,
                        lhs: Box::new(lhs),
                        lo: Box::new(lo),
                        hi: Box::new(hi),
                    };
                    self.mk(kind, pos)?
                }
            };
        }
        Ok(lhs)
    }

    /// Whether a tabular subquery follows `in`: `(T | ...)` or `((T | ...))`.
    fn subquery_follows(&self) -> bool {
        let table_then_pipe =
            |k: usize| matches!(self.tok_at(k), Tok::Ident(_)) && *self.tok_at(k + 1) == Tok::Pipe;
        *self.tok() == Tok::LParen
            && (table_then_pipe(1) || (*self.tok_at(1) == Tok::LParen && table_then_pipe(2)))
    }

    /// `(T | op | ...)`, optionally wrapped in a second pair of parentheses.
    fn subquery(&mut self) -> Result<Query, KqlError> {
        self.require(&Tok::LParen, "`(` starting a subquery")?;
        self.enter()?;
        let double = self.eat(&Tok::LParen);
        let table_pos = self.pos();
        let (table, _) = self.ident("a table name")?;
        let mut ops = Vec::new();
        while self.eat(&Tok::Pipe) {
            ops.push(self.operator()?);
        }
        self.require(&Tok::RParen, "`)` closing the subquery")?;
        if double {
            self.require(&Tok::RParen, "`)` closing the subquery")?;
        }
        self.depth -= 1;
        Ok(Query {
            table,
            table_pos,
            ops,
        })
    }

    fn paren_list(&mut self) -> Result<Vec<Expr>, KqlError> {
        self.require(&Tok::LParen, "`(` starting a list")?;
        let mut items = vec![self.expr()?];
        while self.eat(&Tok::Comma) {
            items.push(self.expr()?);
        }
        self.require(&Tok::RParen, "`)` closing the list")?;
        Ok(items)
    }

    fn enter(&mut self) -> Result<(), KqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(syntax(
                self.pos(),
                format!("expression is nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Expr, KqlError> {
        self.enter()?;
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> Result<Expr, KqlError> {
        let pos = self.pos();
        let op = match self.tok() {
            Tok::Minus => Some(UnaryOp::Neg),
            Tok::Plus => Some(UnaryOp::Plus),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            // Fold `-5` into a literal so `i64::MIN` is expressible and bounds stay constants.
            if op == UnaryOp::Neg {
                match self.tok().clone() {
                    Tok::Long(n) if !self.postfix_follows(1) => {
                        self.bump();
                        return self.mk(ExprKind::Literal(Value::Long(-n)), pos);
                    }
                    Tok::Real(r) if !self.postfix_follows(1) => {
                        self.bump();
                        return self.mk(ExprKind::Literal(Value::Real(-r)), pos);
                    }
                    Tok::TimeSpan(t) if !self.postfix_follows(1) => {
                        self.bump();
                        return self.mk(ExprKind::Literal(Value::TimeSpan(-t)), pos);
                    }
                    _ => {}
                }
            }
            let inner = self.unary()?;
            return self.mk(ExprKind::Unary(op, Box::new(inner)), pos);
        }
        self.postfix()
    }

    fn postfix_follows(&self, k: usize) -> bool {
        matches!(self.tok_at(k), Tok::Dot | Tok::LBracket)
    }

    fn postfix(&mut self) -> Result<Expr, KqlError> {
        let mut e = self.primary()?;
        loop {
            let pos = self.pos();
            match self.tok() {
                Tok::Dot => {
                    self.bump();
                    let (name, _) = self.column_name("a property name after `.`")?;
                    e = self.mk(ExprKind::Member(Box::new(e), name), pos)?;
                }
                Tok::LBracket => {
                    self.bump();
                    let idx = self.expr()?;
                    self.require(&Tok::RBracket, "`]`")?;
                    e = self.mk(ExprKind::Index(Box::new(e), Box::new(idx)), pos)?;
                }
                _ => return Ok(e),
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, KqlError> {
        let pos = self.pos();
        let lit = |v| Ok(Expr::new(ExprKind::Literal(v), pos));
        match self.tok().clone() {
            Tok::Long(n) => {
                self.bump();
                lit(Value::Long(n))
            }
            Tok::Real(r) => {
                self.bump();
                lit(Value::Real(r))
            }
            Tok::TimeSpan(t) => {
                self.bump();
                lit(Value::TimeSpan(t))
            }
            Tok::Str(s) => {
                self.bump();
                // Adjacent string literals concatenate, as in Kusto.
                let mut s = s;
                while let Tok::Str(more) = self.tok().clone() {
                    s.push_str(&more);
                    self.bump();
                }
                lit(Value::String(Arc::from(s)))
            }
            Tok::DateTime(raw) => {
                self.bump();
                match time::parse_datetime(&raw) {
                    Some(t) => lit(Value::DateTime(t)),
                    None => Err(syntax(pos, format!("invalid datetime literal `{raw}`"))),
                }
            }
            Tok::LParen => {
                self.bump();
                let e = self.expr()?;
                if *self.tok() == Tok::Comma {
                    return Err(KqlError::Unsupported {
                        pos: self.pos(),
                        what: "tuples `(a, b)` are only allowed after `in`, `!in`, `in~` and `has_any`".into(),
                    });
                }
                self.require(&Tok::RParen, "`)`")?;
                Ok(e)
            }
            Tok::LBracket => {
                let (name, _) = self.column_name("a column name")?;
                Ok(Expr::new(ExprKind::Column(name), pos))
            }
            Tok::Ident(w) => {
                self.bump();
                if *self.tok() == Tok::LParen {
                    return self.call(w, pos);
                }
                match w.as_str() {
                    "true" => lit(Value::Bool(true)),
                    "false" => lit(Value::Bool(false)),
                    _ => Ok(Expr::new(ExprKind::Column(w), pos)),
                }
            }
            other => Err(syntax(
                pos,
                format!("expected an expression but found {}", other.describe()),
            )),
        }
    }

    fn call(&mut self, name: String, pos: usize) -> Result<Expr, KqlError> {
        self.bump(); // '('
        match name.as_str() {
            "dynamic" => {
                let v = self.json_value()?;
                self.require(&Tok::RParen, "`)` closing dynamic(...)")?;
                return self.mk(ExprKind::Literal(Value::Dynamic(Arc::new(v))), pos);
            }
            "timespan" | "time" => {
                let v = match self.tok().clone() {
                    Tok::TimeSpan(t) => t,
                    Tok::Long(n) => n
                        .checked_mul(time::TICKS_PER_DAY)
                        .ok_or_else(|| syntax(pos, "timespan overflow"))?,
                    other => {
                        return Err(syntax(
                            self.pos(),
                            format!(
                                "expected a timespan such as 1d inside {name}(...) but found {}",
                                other.describe()
                            ),
                        ));
                    }
                };
                self.bump();
                self.require(&Tok::RParen, "`)`")?;
                return self.mk(ExprKind::Literal(Value::TimeSpan(v)), pos);
            }
            _ => {}
        }
        let mut args = Vec::new();
        if !self.eat(&Tok::RParen) {
            args.push(self.expr()?);
            while self.eat(&Tok::Comma) {
                args.push(self.expr()?);
            }
            self.require(&Tok::RParen, &format!("`)` closing the call to `{name}`"))?;
        }
        self.mk(ExprKind::Call(name, args), pos)
    }

    /// The JSON-like body of `dynamic(...)`.
    fn json_value(&mut self) -> Result<serde_json::Value, KqlError> {
        self.enter()?;
        let r = self.json_inner();
        self.depth -= 1;
        r
    }

    fn json_inner(&mut self) -> Result<serde_json::Value, KqlError> {
        use serde_json::Value as J;
        let pos = self.pos();
        let v = match self.tok().clone() {
            Tok::LBracket => {
                self.bump();
                let mut items = Vec::new();
                if !self.eat(&Tok::RBracket) {
                    items.push(self.json_value()?);
                    while self.eat(&Tok::Comma) {
                        items.push(self.json_value()?);
                    }
                    self.require(&Tok::RBracket, "`]` closing the array")?;
                }
                return Ok(J::Array(items));
            }
            Tok::LBrace => {
                self.bump();
                let mut map = serde_json::Map::new();
                if !self.eat(&Tok::RBrace) {
                    loop {
                        let key = match self.tok().clone() {
                            Tok::Str(s) | Tok::Ident(s) => s,
                            other => {
                                return Err(syntax(
                                    self.pos(),
                                    format!(
                                        "expected a property name but found {}",
                                        other.describe()
                                    ),
                                ));
                            }
                        };
                        self.bump();
                        self.require(&Tok::Colon, "`:` after the property name")?;
                        map.insert(key, self.json_value()?);
                        if !self.eat(&Tok::Comma) {
                            break;
                        }
                    }
                    self.require(&Tok::RBrace, "`}` closing the object")?;
                }
                return Ok(J::Object(map));
            }
            Tok::Str(s) => J::String(s),
            Tok::Long(n) => J::from(n),
            Tok::Real(r) => serde_json::Number::from_f64(r).map_or(J::Null, J::Number),
            Tok::Minus => {
                self.bump();
                match self.tok().clone() {
                    Tok::Long(n) => J::from(-n),
                    Tok::Real(r) => serde_json::Number::from_f64(-r).map_or(J::Null, J::Number),
                    other => {
                        return Err(syntax(
                            self.pos(),
                            format!("expected a number but found {}", other.describe()),
                        ));
                    }
                }
            }
            Tok::Ident(w) if w == "true" => J::Bool(true),
            Tok::Ident(w) if w == "false" => J::Bool(false),
            Tok::Ident(w) if w == "null" => J::Null,
            other => {
                return Err(syntax(
                    pos,
                    format!(
                        "expected a dynamic literal value but found {}",
                        other.describe()
                    ),
                ));
            }
        };
        self.bump();
        Ok(v)
    }
}

enum Infix {
    Bin(BinOp),
    List(ListOp, bool),
    Between(bool),
}

fn unsupported_operator(pos: usize, name: &str) -> KqlError {
    KqlError::Unsupported {
        pos,
        what: format!("the `{name}` operator is not supported by this simulator"),
    }
}
