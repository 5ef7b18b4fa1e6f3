//! The Spaces header of `README.md` and what the README tells readers to do. The Hub rejects a
//! push whose header breaks its rules ("your push was rejected during YAML metadata
//! verification"), and a Docker Space without `sdk: docker` never runs the Dockerfile.

use yaml_rust2::Yaml;

use super::super::readme::{self, Header, FILE};
use super::super::{Finding, Rule, Severity};
use super::Facts;

pub(crate) static MISSING: Rule = Rule {
    id: "SG301",
    name: "readme-header-missing",
    severity: Severity::Error,
    why: "the Hub reads a Space's SDK and port from the YAML header of README.md; without it the Space is not configured",
    fix: "start README.md with a `---` block holding at least `sdk: docker` and `app_port: 7860`",
    explanation: "A Space repository is configured by the YAML block at the top of README.md, between two `---` lines: `title`, `emoji`, `colorFrom`, `colorTo`, `sdk`, `app_port`, `short_description`, `license`. A Docker Space needs `sdk: docker`; `app_port` defaults to 7860. A README without the block (or a repository without README.md) leaves the Space unconfigured.",
};

pub(crate) static INVALID: Rule = Rule {
    id: "SG302",
    name: "readme-header-invalid",
    severity: Severity::Error,
    why: "a header that is not a YAML mapping is rejected when pushed to the Hub",
    fix: "make the block between the `---` lines valid YAML: one `key: value` per line",
    explanation: "The Hub validates the README header on every push (`/api/validate-yaml`) and rejects the push when it cannot be read: an unclosed `---` block, YAML syntax errors, or a list instead of a mapping.",
};

pub(crate) static SDK: Rule = Rule {
    id: "SG303",
    name: "readme-sdk",
    severity: Severity::Error,
    why: "only `sdk: docker` builds and runs the Dockerfile; any other or missing value runs something else or is rejected",
    fix: "set `sdk: docker` in the README header",
    explanation: "`sdk` must be one of `gradio`, `docker` or `static` (`streamlit` is no longer offered). A repository with a Dockerfile is built from it only with `sdk: docker`; with `gradio` or `static` the Dockerfile is ignored.",
};

pub(crate) static PORT: Rule = Rule {
    id: "SG304",
    name: "readme-app-port",
    severity: Severity::Error,
    why: "`app_port` must be an integer port; anything else is rejected or routes traffic nowhere",
    fix: "write `app_port: 7860` (or the port the server listens on) as a bare integer",
    explanation: "`app_port` tells the Hub which container port to send traffic to (default 7860). It must be an integer between 1 and 65535: a quoted string, a list or a port out of range is rejected or leaves the Space unreachable.",
};

pub(crate) static COLORS: Rule = Rule {
    id: "SG305",
    name: "readme-colors",
    severity: Severity::Error,
    why: "the Hub rejects any `colorFrom`/`colorTo` outside red, yellow, green, blue, indigo, purple, pink and gray",
    fix: "pick `colorFrom` and `colorTo` from red, yellow, green, blue, indigo, purple, pink, gray",
    explanation: "The push is rejected with '\"colorFrom\" must be one of [red, yellow, green, blue, indigo, purple, pink, gray]'. `orange` and `teal` are rejected too, although a Hub documentation page uses `orange` as its example.",
};

pub(crate) static SHORT_DESCRIPTION: Rule = Rule {
    id: "SG306",
    name: "readme-short-description",
    severity: Severity::Error,
    why: "the Hub rejects a `short_description` longer than 60 characters",
    fix: "shorten `short_description` to 60 characters at most",
    explanation: "A push whose header has a `short_description` over 60 characters is rejected with '\"short_description\" length must be less than or equal to 60 characters long'.",
};

pub(crate) static HUGGINGFACE_CLI: Rule = Rule {
    id: "SG307",
    name: "readme-huggingface-cli",
    severity: Severity::Warning,
    why: "`huggingface-cli` is gone from huggingface_hub 1.0 on: the command a reader copies does not exist",
    fix: "use `hf` (`hf auth login`, `hf upload …`), or set HF_TOKEN",
    explanation: "huggingface_hub 1.0.0 removed the `huggingface-cli` console script; only `hf` remains (`hf auth login`, `hf upload`, `hf download`). Instructions that say `huggingface-cli login` fail with 'command not found' on a current install.",
};

pub(crate) static PERSISTENT_DATA: Rule = Rule {
    id: "SG308",
    name: "readme-persistent-data",
    severity: Severity::Warning,
    why: "`suggested_storage` asks for persistent storage Spaces no longer offer: whatever the app writes is lost on every restart",
    fix: "drop `suggested_storage`; keep durable data in a database (e.g. Neon) or a Storage Bucket",
    explanation: "The Hub removed the persistent storage tiers: the disk of a Space is ephemeral and wiped on restart or rebuild, `suggested_storage` is ignored, and `/data` is not a persistent volume. Storage Buckets are the documented persistence now; a SQLite file in the container is lost on every restart.",
};

pub(crate) static RULES: &[&Rule] = &[
    &MISSING,
    &INVALID,
    &SDK,
    &PORT,
    &COLORS,
    &SHORT_DESCRIPTION,
    &HUGGINGFACE_CLI,
    &PERSISTENT_DATA,
];

const COLOURS: &[&str] = &[
    "red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray",
];

/// Checks README.md, when the folder looks like a Space backend (it has a Dockerfile).
pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let project = facts.project;
    let is_space = project.dockerfiles().next().is_some();
    let Some(text) = project.text(FILE) else {
        if is_space {
            findings.push(Finding::new(&MISSING, FILE, 0, "there is no README.md"));
        }
        return;
    };
    body(text, findings);
    let fields = match readme::header(text) {
        Header::Missing => {
            if is_space {
                findings.push(Finding::new(
                    &MISSING,
                    FILE,
                    1,
                    "README.md does not start with a `---` YAML header",
                ));
            }
            return;
        }
        Header::Invalid { line, message } => {
            findings.push(Finding::new(&INVALID, FILE, line, message));
            return;
        }
        Header::Parsed(fields) => fields,
    };
    match fields.get("sdk") {
        None => findings.push(Finding::new(&SDK, FILE, 1, "the header has no `sdk`")),
        Some((Yaml::String(sdk), line))
            if !["gradio", "docker", "static"].contains(&sdk.as_str()) =>
        {
            findings.push(Finding::new(
                &SDK,
                FILE,
                line,
                format!("`sdk: {sdk}` is not one the Hub offers"),
            ));
        }
        Some((Yaml::String(sdk), line)) if sdk != "docker" && is_space => {
            findings.push(Finding::new(
                &SDK,
                FILE,
                line,
                format!("`sdk: {sdk}` ignores the Dockerfile"),
            ))
        }
        Some((Yaml::String(_), _)) => {}
        Some((_, line)) => findings.push(Finding::new(&SDK, FILE, line, "`sdk` is not a string")),
    }
    if let Some((value, line)) = fields.get("app_port") {
        let good = matches!(value, Yaml::Integer(p) if (1..=65535).contains(p));
        if !good {
            findings.push(Finding::new(
                &PORT,
                FILE,
                line,
                format!("`app_port: {}` is not a port number", shown(value)),
            ));
        }
    }
    for key in ["colorFrom", "colorTo"] {
        if let Some((value, line)) = fields.get(key) {
            let good = matches!(value, Yaml::String(c) if COLOURS.contains(&c.as_str()));
            if !good {
                findings.push(Finding::new(
                    &COLORS,
                    FILE,
                    line,
                    format!("`{key}: {}` is not one of the eight colours", shown(value)),
                ));
            }
        }
    }
    if let Some((Yaml::String(d), line)) = fields.get("short_description") {
        let n = d.chars().count();
        if n > 60 {
            findings.push(Finding::new(
                &SHORT_DESCRIPTION,
                FILE,
                line,
                format!("`short_description` is {n} characters long"),
            ));
        }
    }
    if let Some((_, line)) = fields.get("suggested_storage") {
        findings.push(Finding::new(
            &PERSISTENT_DATA,
            FILE,
            line,
            "`suggested_storage` asks for persistent storage, which Spaces no longer offer",
        ));
    }
}

/// The README's commands: a fenced code block line that runs `huggingface-cli`.
fn body(text: &str, findings: &mut Vec<Finding>) {
    let mut fence: Option<&str> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(open) = fence {
            if trimmed.starts_with(open) {
                fence = None;
                continue;
            }
        } else {
            if trimmed.starts_with("```") {
                fence = Some("```");
            } else if trimmed.starts_with("~~~") {
                fence = Some("~~~");
            }
            continue;
        }
        let command = trimmed
            .trim_start_matches(['$', '>', '!', ' '])
            .trim_start();
        if command.starts_with("huggingface-cli ") || command == "huggingface-cli" {
            let column = line.len() - command.len();
            findings.push(
                Finding::new(
                    &HUGGINGFACE_CLI,
                    FILE,
                    i + 1,
                    format!("the README runs `{}`", command.trim_end()),
                )
                .at_column(line[..column].chars().count() + 1),
            );
        }
    }
}

fn shown(value: &Yaml) -> String {
    match value {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Real(r) => r.clone(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => "null".into(),
        _ => "…".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(files: &[(&str, &str)]) -> Vec<(&'static str, usize)> {
        super::super::found(check, files)
    }

    const GOOD: &str = "---\ntitle: Demo API\nemoji: 🚀\ncolorFrom: blue\ncolorTo: indigo\nsdk: docker\napp_port: 7860\nshort_description: FastAPI backend for the Vercel frontend\nlicense: mit\n---\n\nLog in with `hf auth login`.\n";

    #[test]
    fn a_header_the_hub_accepts_passes() {
        assert_eq!(
            found(&[("README.md", GOOD), ("Dockerfile", "FROM x\n")]),
            vec![]
        );
    }

    #[test]
    fn each_header_defect_is_found_at_its_line() {
        let bad = "---\ntitle: A\ncolorFrom: orange\ncolorTo: gray\nsdk: gradio\napp_port: \"7860\"\nshort_description: This description is far too long to be shown on a Space thumbnail card\nsuggested_storage: small\n---\n`huggingface-cli login` no longer exists.\n```sh\n$ huggingface-cli login\n```\n";
        assert_eq!(
            found(&[("README.md", bad), ("Dockerfile", "FROM x\n")]),
            vec![
                ("SG307", 12),
                ("SG303", 5),
                ("SG304", 6),
                ("SG305", 3),
                ("SG306", 7),
                ("SG308", 8),
            ]
        );
    }

    #[test]
    fn a_folder_without_a_dockerfile_is_not_held_to_space_rules() {
        assert_eq!(found(&[("README.md", "# Library\n")]), vec![]);
        assert_eq!(found(&[("Dockerfile", "FROM x\n")]), vec![("SG301", 0)]);
    }
}
