//! The include graph of a blueprint's partials, checked when the engine is made.
//!
//! liquid follows `{% include %}` and `{% render %}` at render time, with no limit, so a
//! partial that includes itself (directly or through others) recurses until the stack runs out.
//! Every include names its partial by a string literal ([`super::bounds`] refuses any other),
//! so the graph is known up front: a cycle, or a chain of includes deeper than
//! [`MAX_INCLUDE_DEPTH`], is refused at the include that closes it.

use std::collections::BTreeMap;
use std::ops::Range;

use super::bounds::include_name;
use super::markup::markups;

/// How many partials deep includes may go, counting from a template.
pub(crate) const MAX_INCLUDE_DEPTH: usize = 16;

/// An include that closes a cycle or goes too deep: in which partial, where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadInclude {
    pub partial: String,
    pub span: Range<usize>,
    pub message: String,
}

/// The first include of `partials` (name → text) that closes a cycle or goes deeper than
/// [`MAX_INCLUDE_DEPTH`], in the order of the partials' names.
pub(crate) fn check(partials: &BTreeMap<String, String>) -> Result<(), BadInclude> {
    let edges: BTreeMap<&str, Vec<(&str, Range<usize>)>> = partials
        .iter()
        .map(|(name, text)| {
            let includes = markups(text)
                .into_iter()
                .filter(|m| matches!(m.tag, "include" | "render"))
                .filter_map(|m| Some((include_name(m.rest)?, m.span)))
                .filter(|(target, _)| partials.contains_key(*target))
                .collect();
            (name.as_str(), includes)
        })
        .collect();
    // Depth-first from every partial, with the chain that led to it.
    for start in edges.keys() {
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        while let Some(top) = stack.last_mut() {
            let node = top.0;
            let Some((target, span)) = edges.get(node).and_then(|e| e.get(top.1)) else {
                stack.pop();
                continue;
            };
            top.1 += 1;
            let bad = |message: String| BadInclude {
                partial: node.to_owned(),
                span: span.clone(),
                message,
            };
            if let Some(at) = stack.iter().position(|(n, _)| n == target) {
                let mut chain: Vec<&str> = stack[at..].iter().map(|(n, _)| *n).collect();
                chain.push(target);
                return Err(bad(format!(
                    "partials include each other in a cycle: {}",
                    chain.join(" → ")
                )));
            }
            if stack.len() >= MAX_INCLUDE_DEPTH {
                return Err(bad(format!(
                    "includes nested more than {MAX_INCLUDE_DEPTH} partials deep"
                )));
            }
            stack.push((target, 0));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partials(all: &[(&str, &str)]) -> BTreeMap<String, String> {
        all.iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect()
    }

    #[test]
    fn an_acyclic_graph_passes() {
        let p = partials(&[
            ("a", "{% include \"b\" %}{% include \"c\" %}"),
            ("b", "{% include \"c\" %}"),
            ("c", "leaf {% include \"nope\" %}"),
        ]);
        assert_eq!(check(&p), Ok(()));
    }

    #[test]
    fn cycles_are_refused_at_the_include_that_closes_them() {
        let p = partials(&[("self", "x\n{% include \"self\" %}")]);
        let bad = check(&p).unwrap_err();
        assert_eq!((bad.partial.as_str(), bad.span), ("self", 2..22));
        assert!(bad.message.contains("self → self"), "{}", bad.message);
        let p = partials(&[
            ("ping", "{% include \"pong\" %}"),
            ("pong", "{% render 'ping' %}"),
        ]);
        let bad = check(&p).unwrap_err();
        assert_eq!(bad.partial, "pong");
        assert!(
            bad.message.contains("ping → pong → ping"),
            "{}",
            bad.message
        );
    }

    #[test]
    fn chains_too_deep_are_refused() {
        let chain: Vec<(String, String)> = (0..=MAX_INCLUDE_DEPTH)
            .map(|i| {
                (
                    format!("p{i:02}"),
                    format!("{{% include \"p{:02}\" %}}", i + 1),
                )
            })
            .collect();
        let p: BTreeMap<String, String> = chain.into_iter().collect();
        let bad = check(&p).unwrap_err();
        assert!(bad.message.contains("deep"), "{}", bad.message);
    }
}
