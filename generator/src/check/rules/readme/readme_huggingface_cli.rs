use crate::check::finding::rule;
use crate::check::readme::FILE;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a line of a fenced code block (fenced with three backticks or `~~~`) in
    /// README.md that runs `huggingface-cli`, after an optional `$`, `>` or `!` prompt.
    ///
    /// ## Why it breaks a Space
    /// huggingface_hub 1.0.0 removed the `huggingface-cli` console script; only `hf` remains
    /// (`hf auth login`, `hf upload`, `hf download`). Instructions that say
    /// `huggingface-cli login` fail with 'command not found' on a current install.
    ///
    /// ## Example
    /// ```sh
    /// huggingface-cli login
    /// huggingface-cli upload me/demo .
    /// ```
    ///
    /// ## Fix
    /// Use `hf`, or set `HF_TOKEN`:
    /// ```sh
    /// hf auth login
    /// hf upload me/demo .
    /// ```
    ///
    /// ## References
    /// - huggingface_hub, command line interface: <https://huggingface.co/docs/huggingface_hub/guides/cli>
    /// - huggingface_hub, migrating to v1.0: <https://huggingface.co/docs/huggingface_hub/concepts/migration>
    pub(crate) static RULE = "SG307", "readme-huggingface-cli", Warning;
    why: "`huggingface-cli` is gone from huggingface_hub 1.0 on: the command a reader copies does not exist";
    fix: "use `hf` (`hf auth login`, `hf upload …`), or set HF_TOKEN";
}

/// The README's commands: a fenced code block line that runs `huggingface-cli`.
pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let Some(readme) = &facts.readme else {
        return;
    };
    let mut fence: Option<&str> = None;
    for (i, line) in readme.text.lines().enumerate() {
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
                    &RULE,
                    FILE,
                    i + 1,
                    format!("the README runs `{}`", command.trim_end()),
                )
                .at_column(line[..column].chars().count() + 1),
            );
        }
    }
}
