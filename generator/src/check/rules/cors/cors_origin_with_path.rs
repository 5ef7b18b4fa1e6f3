use super::configs;
use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports an `allow_origins` entry of a `CORSMiddleware` that has something after
    /// `scheme://host[:port]`: a trailing slash or a path (an entry with a `*` inside is
    /// SG201's instead).
    ///
    /// ## Why it breaks a Space
    /// Browsers send `Origin` as `scheme://host[:port]`, with no path and no trailing slash.
    /// Starlette compares `allow_origins` entries as exact strings, so
    /// `"https://app.example.com/"` does not match the origin `https://app.example.com`: the
    /// frontend's requests are refused.
    ///
    /// ## Example
    /// ```python
    /// app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com/"])
    /// ```
    ///
    /// ## Fix
    /// Remove the trailing `/` and any path from the origin:
    /// ```python
    /// app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])
    /// ```
    ///
    /// ## References
    /// - Starlette, CORSMiddleware: <https://www.starlette.io/middleware/#corsmiddleware>
    /// - MDN, the `Origin` header: <https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Origin>
    pub(crate) static RULE = "SG204", "cors-origin-with-path", Error;
    why: "an origin is scheme://host[:port]; one with a trailing slash or a path never matches and the browser blocks the frontend";
    fix: "remove the trailing `/` and any path from the origin";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for config in configs(facts) {
        for origin in config.origins() {
            let Some(text) = origin.as_str() else {
                continue;
            };
            // An entry with a wildcard inside is SG201's.
            if text.contains('*') && text != "*" {
                continue;
            }
            if has_path(text) {
                findings.push(
                    Finding::new(
                        &RULE,
                        config.file,
                        origin.place.line,
                        format!(
                            "allow_origins entry {text:?} has a path or trailing slash; browsers send {:?}",
                            origin_of(text)
                        ),
                    )
                    .at_column(origin.place.column),
                );
            }
        }
    }
}

/// Whether an origin-like string has something after `scheme://host[:port]`.
fn has_path(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+')
        && rest.contains('/')
        && !rest.starts_with('/')
}

/// `scheme://host[:port]` of an origin-like string.
fn origin_of(origin: &str) -> String {
    match origin.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or("")),
        None => origin.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_with_paths() {
        assert!(has_path("https://a.com/"));
        assert!(has_path("https://a.com/app"));
        assert!(!has_path("https://a.com"));
        assert!(!has_path("http://localhost:3000"));
        assert!(!has_path("*"));
        assert_eq!(origin_of("https://a.com/x/"), "https://a.com");
    }
}
