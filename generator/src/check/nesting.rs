//! How deep Python source can nest, bounded before it is parsed: the parser and the walk over
//! its tree recurse once per level, so source nested thousands deep (`[[[…]]]`, `1 + 1 + …`,
//! `- - - x`) would overflow the stack. The source is read once with the tokenizer, which keeps
//! no stack of its own beyond the brackets, and each statement gets an upper bound on the depth
//! of its tree: every level of a tree is an operator, keyword or bracket token, so the tokens of
//! one comma-separated element at one bracket level, plus the deepest bracket inside it, bound
//! that element's depth. Names, numbers and strings add no level.

use ruff_python_ast::token::TokenKind;
use ruff_python_parser::{lexer, Mode};

/// The deepest tree parsed. Real code stays far below (CPython refuses 200 nested brackets);
/// the bound is an over-estimate, so it is generous.
pub(crate) const MAX_DEPTH: usize = 1000;

/// Where a source nests beyond [`MAX_DEPTH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooDeep {
    /// 1-based line of the statement.
    pub line: usize,
}

/// One open bracket (or the statement itself, at the bottom of the stack).
#[derive(Debug, Default)]
struct Level {
    /// Tokens that add a level, in the current element.
    tokens: usize,
    /// The deepest bracket closed in the current element.
    inner: usize,
    /// The deepest element closed so far.
    deepest: usize,
}

impl Level {
    fn element(&self) -> usize {
        self.tokens + self.inner
    }

    fn close_element(&mut self) {
        self.deepest = self.deepest.max(self.element());
        self.tokens = 0;
        self.inner = 0;
    }

    fn depth(&self) -> usize {
        self.deepest.max(self.element())
    }
}

/// `Err` with the line by which `source` may nest deeper than [`MAX_DEPTH`].
pub(crate) fn within_budget(source: &str) -> Result<(), TooDeep> {
    if !too_deep(source) {
        return Ok(());
    }
    // The tokenizer tells no positions: the line is the shortest head of whole lines that is
    // already too deep, found by halving.
    let ends: Vec<usize> = source
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .chain(std::iter::once(source.len()))
        .collect();
    let (mut low, mut high) = (0, ends.len() - 1);
    while low < high {
        let mid = low + (high - low) / 2;
        if too_deep(&source[..ends[mid]]) {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    Err(TooDeep { line: low + 1 })
}

/// Whether some statement of `source` may nest deeper than [`MAX_DEPTH`].
fn too_deep(source: &str) -> bool {
    let mut lexer = lexer::lex(source, Mode::Module);
    let mut levels = vec![Level::default()];
    let mut indent = 0usize;
    let mut previous = TokenKind::Newline;
    // The elements of every open level below the top (each holds its open bracket).
    let mut below = 0usize;
    loop {
        let kind = lexer.next_token();
        let top = levels.len() - 1;
        match kind {
            TokenKind::EndOfFile => return false,
            TokenKind::Newline if top == 0 => levels[0] = Level::default(),
            TokenKind::Indent => indent += 1,
            TokenKind::Dedent => indent = indent.saturating_sub(1),
            TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => {
                levels[top].tokens += 1;
                below += levels[top].element();
                levels.push(Level::default());
            }
            TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace if top > 0 => {
                let closed = levels.pop().map_or(0, |l| l.depth()) + 1;
                let parent = &mut levels[top - 1];
                below -= parent.element();
                parent.inner = parent.inner.max(closed);
            }
            TokenKind::Comma => levels[top].close_element(),
            // Implicitly joined strings are one node.
            TokenKind::FStringStart | TokenKind::TStringStart
                if matches!(
                    previous,
                    TokenKind::String | TokenKind::FStringEnd | TokenKind::TStringEnd
                ) => {}
            TokenKind::Name
            | TokenKind::Int
            | TokenKind::Float
            | TokenKind::Complex
            | TokenKind::String
            | TokenKind::FStringMiddle
            | TokenKind::FStringEnd
            | TokenKind::TStringMiddle
            | TokenKind::TStringEnd
            | TokenKind::Comment
            | TokenKind::Newline
            | TokenKind::NonLogicalNewline
            | TokenKind::Rpar
            | TokenKind::Rsqb
            | TokenKind::Rbrace => {}
            _ => levels[top].tokens += 1,
        }
        if !matches!(kind, TokenKind::Comment | TokenKind::NonLogicalNewline) {
            previous = kind;
        }
        let top = levels.len() - 1;
        if indent + below + levels[top].element() > MAX_DEPTH {
            return true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_code_is_within_the_budget() {
        let long_list = format!("X = [{}]\n", vec!["-1"; 50_000].join(", "));
        let strings = format!("S = ({})\n", vec!["\"a\""; 5_000].join(" "));
        let conditions = format!("if ({}):\n    pass\n", vec!["a == 1"; 300].join(" and "));
        for source in [
            "def f(x):\n    return [[1, 2], {\"a\": (3, 4)}][0]\n",
            long_list.as_str(),
            strings.as_str(),
            conditions.as_str(),
            "f\"{[[1]]}\"\n",
        ] {
            assert_eq!(within_budget(source), Ok(()), "{source:.60}");
        }
    }

    #[test]
    fn deep_sources_are_refused_at_their_statement() {
        let brackets = format!("a = 1\n\nx = {}{}\n", "[".repeat(2000), "]".repeat(2000));
        let sum = format!("a = 1\nx = {}\n", vec!["1"; 2000].join(" + "));
        let negations = format!("x = {}x\n", "-".repeat(2000));
        let unclosed = format!("x = {}\n", "(".repeat(30_000));
        let fstring = format!("a = 1\nx = f\"{{{}}}\"\n", "[".repeat(2000));
        for (source, line) in [
            (brackets, 3),
            (sum, 2),
            (negations, 1),
            (unclosed, 1),
            (fstring, 2),
        ] {
            assert_eq!(
                within_budget(&source),
                Err(TooDeep { line }),
                "{source:.60}"
            );
        }
    }

    #[test]
    fn the_line_is_where_the_budget_is_passed() {
        let brackets = format!("{}{}", "[".repeat(1200), "]".repeat(1200));
        let deep = format!("\"\"\"A\n\ndoc.\"\"\"\n\n\nx = (\n{brackets}\n)\n");
        assert_eq!(within_budget(&deep), Err(TooDeep { line: 7 }));
    }
}
