use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a URL "masked" by cutting it at `@` and joining the part before it to a string
    /// with `*` in it (`url.split("@")[0] + "@***"`).
    ///
    /// ## Why it breaks a Space
    /// The part of a database URL before `@` is `scheme://user:password`. Keeping that part
    /// and appending "***" prints the password and hides only the host, in logs and health
    /// answers that are far more widely read than the Space's secrets.
    ///
    /// ## Example
    /// ```python
    /// logger.info("database: %s", url.split("@")[0] + "@***")
    /// # postgresql://user:password@host/db  ->  postgresql://user:password@***
    /// ```
    ///
    /// ## Fix
    /// Let SQLAlchemy mask it, which gives `postgresql://user:***@host/db` (`str()` of a
    /// SQLAlchemy URL masks too). Query parameters are masked by neither: never put tokens
    /// there.
    /// ```python
    /// logger.info("database: %s", make_url(url).render_as_string(hide_password=True))
    /// ```
    ///
    /// ## References
    /// - SQLAlchemy, `URL.render_as_string`: <https://docs.sqlalchemy.org/en/20/core/engines.html#sqlalchemy.engine.URL.render_as_string>
    pub(crate) static RULE = "SG209", "url-mask-leaks-password", Error;
    why: "`url.split(\"@\")[0] + \"@***\"` keeps `scheme://user:password` and hides the host: the password is shown";
    fix: "mask with SQLAlchemy: make_url(url).render_as_string(hide_password=True)";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for (file, module) in &facts.python {
        for place in &module.at_masks {
            findings.push(
                Finding::new(
                    &RULE,
                    *file,
                    place.line,
                    "the URL is cut at `@` and the part with the password is kept",
                )
                .at_column(place.column),
            );
        }
    }
}
