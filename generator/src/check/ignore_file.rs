//! `.dockerignore` patterns and whether they exclude a path, as BuildKit decides: patterns are
//! cleaned paths relative to the build context, `*` and `?` stop at `/`, `**` crosses folders,
//! a pattern that matches a folder excludes everything below it, `!` re-includes, and the last
//! matching pattern wins. A pattern that does not compile is ignored.

use globset::{GlobBuilder, GlobMatcher};

/// A parsed ignore file.
#[derive(Debug, Default)]
pub(crate) struct IgnoreFile {
    patterns: Vec<Pattern>,
}

#[derive(Debug)]
struct Pattern {
    /// The cleaned pattern text.
    text: String,
    matcher: GlobMatcher,
    /// `!pattern`.
    include: bool,
}

impl IgnoreFile {
    /// Parses the text of a `.dockerignore`.
    pub(crate) fn parse(text: &str) -> IgnoreFile {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (include, raw) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let text = clean(raw);
            if text.is_empty() {
                continue;
            }
            let Ok(glob) = GlobBuilder::new(&text)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
            else {
                continue;
            };
            patterns.push(Pattern {
                text,
                matcher: glob.compile_matcher(),
                include,
            });
        }
        IgnoreFile { patterns }
    }

    /// Whether `path` (relative to the context) is excluded, by a pattern on it or a parent.
    pub(crate) fn excludes(&self, path: &str) -> bool {
        let path = clean(path);
        let mut excluded = false;
        for p in &self.patterns {
            if matches_or_parent(&p.matcher, &path) {
                excluded = !p.include;
            }
        }
        excluded
    }

    /// Whether some `!` pattern could re-include a path below the folder `dir`.
    pub(crate) fn may_include_below(&self, dir: &str) -> bool {
        let dir = clean(dir);
        self.patterns.iter().filter(|p| p.include).any(|p| {
            if dir.is_empty() {
                return true;
            }
            let literal: &str = p
                .text
                .split(['*', '?', '[', '\\'])
                .next()
                .unwrap_or_default();
            literal.starts_with(&format!("{dir}/")) || format!("{dir}/").starts_with(literal)
        })
    }
}

fn matches_or_parent(matcher: &GlobMatcher, path: &str) -> bool {
    if matcher.is_match(path) {
        return true;
    }
    path.match_indices('/')
        .any(|(at, _)| matcher.is_match(&path[..at]))
}

/// A path or pattern as BuildKit compares it: no leading `/` or `./`, no `.` segments, no
/// trailing `/`.
pub(crate) fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_match_wins_and_parents_count() {
        let ignore =
            IgnoreFile::parse("# c\n*.txt\n!requirements.txt\ndata/\n/secrets\n**/*.pem\n");
        assert!(ignore.excludes("notes.txt"));
        assert!(!ignore.excludes("requirements.txt"));
        assert!(!ignore.excludes("app/notes.txt"), "* stops at /");
        assert!(ignore.excludes("data"));
        assert!(ignore.excludes("data/x/y.csv"));
        assert!(ignore.excludes("./secrets"));
        assert!(ignore.excludes("a/b/key.pem"));
        assert!(!ignore.excludes("app/main.py"));
    }

    #[test]
    fn allow_lists() {
        let ignore = IgnoreFile::parse("*\n!app\n!requirements.txt\n");
        assert!(ignore.excludes("README.md"));
        assert!(!ignore.excludes("app/main.py"));
        assert!(!ignore.excludes("requirements.txt"));
        assert!(ignore.may_include_below("."));
        let ignore = IgnoreFile::parse("app\n!app/main.py\n[\n");
        assert!(ignore.excludes("app"));
        assert!(ignore.may_include_below("app"));
        assert!(!ignore.may_include_below("static"));
    }
}
