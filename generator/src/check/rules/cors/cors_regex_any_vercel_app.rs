use super::{configs, origin_regex, Reach, FOREIGN_VERCEL};
use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a literal `allow_origin_regex` of a `CORSMiddleware` that admits other Vercel
    /// users' deployments (it matches a made-up `*.vercel.app` origin of another project)
    /// without admitting any origin at all (that, with credentials, is SG202's).
    ///
    /// ## Why it breaks a Space
    /// Every Vercel account deploys under `vercel.app`, and anyone can create a project with
    /// any free name. A regex such as `r"https://[a-z0-9-]+\.vercel\.app"` or
    /// `r"https://.*\.vercel\.app"` therefore allows origins that belong to other people; with
    /// `allow_credentials=True` they can read responses made with the user's cookies.
    ///
    /// ## Example
    /// ```python
    /// app.add_middleware(
    ///     CORSMiddleware,
    ///     allow_origin_regex=r"https://.*\.vercel\.app",
    ///     allow_credentials=True,
    /// )
    /// ```
    ///
    /// ## Fix
    /// Scope the regex to the project and, where known, to the team suffix that Vercel puts
    /// in preview URLs:
    /// ```python
    /// app.add_middleware(
    ///     CORSMiddleware,
    ///     allow_origin_regex=r"https://myproj(-git-[a-z0-9-]+)?-myteam\.vercel\.app",
    /// )
    /// ```
    ///
    /// ## References
    /// - Starlette, CORSMiddleware: <https://www.starlette.io/middleware/#corsmiddleware>
    /// - Python, `re.fullmatch`: <https://docs.python.org/3/library/re.html#re.fullmatch>
    pub(crate) static RULE = "SG203", "cors-regex-any-vercel-app", Warning;
    why: "the origin regex admits every Vercel user's deployments, not only this project's";
    fix: "scope the regex to the project (and team): r\"https://myproj(-[a-z0-9-]+)?-myteam\\.vercel\\.app\"";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for config in configs(facts) {
        if let Some((value, pattern, Reach::AnyVercel)) = origin_regex(&config) {
            findings.push(
                Finding::new(
                    &RULE,
                    config.file,
                    value.place.line,
                    format!(
                        "allow_origin_regex {pattern:?} admits {} (another user's project)",
                        FOREIGN_VERCEL[0]
                    ),
                )
                .at_column(value.place.column),
            );
        }
    }
}
