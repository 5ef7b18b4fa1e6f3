//! A Dockerfile, parsed: its instructions in order, each with the 1-based line its keyword is on,
//! its flags (`--chown=user`), its arguments in exec (JSON) or shell form, and the bodies of its
//! heredocs. Parser directives (`# escape=`), comments, line continuations and empty lines inside
//! a continuation are handled as BuildKit does. Parsing never fails: text that is not a valid
//! instruction is kept as one with an unknown keyword, so every input gives a [`Dockerfile`].

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dockerfile {
    pub instructions: Vec<Instruction>,
}

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instruction {
    /// 1-based line of the keyword.
    pub line: usize,
    /// Upper-cased: `RUN`, `COPY`.
    pub keyword: String,
    /// Leading `--name=value` (or `--name`) flags, in order.
    pub flags: Vec<Flag>,
    pub args: Args,
    /// The bodies of the heredocs this instruction opens (`RUN <<EOF`), in order.
    pub heredocs: Vec<String>,
}

/// A `--name[=value]` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flag {
    pub name: String,
    pub value: Option<String>,
}

/// The arguments after the keyword and flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Args {
    /// `["a", "b"]`.
    Exec(Vec<String>),
    /// Anything else, continuations joined.
    Shell(String),
}

/// A build stage: a `FROM` and the instructions up to the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stage<'a> {
    /// The `FROM` instruction.
    pub from: &'a Instruction,
    /// The image (or earlier stage) it starts from.
    pub image: String,
    /// The `AS` name, lower-cased.
    pub name: Option<String>,
    /// The instructions after the `FROM`.
    pub body: &'a [Instruction],
}

impl Instruction {
    /// The value of flag `name`, if given.
    pub(crate) fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_deref().unwrap_or(""))
    }

    /// The arguments as words: the exec-form list, or the shell form split as a shell would
    /// (`None` when its quotes do not balance).
    pub(crate) fn words(&self) -> Option<Vec<String>> {
        match &self.args {
            Args::Exec(list) => Some(list.clone()),
            Args::Shell(text) => shlex::split(text),
        }
    }

    /// The simple commands of a RUN (its text and heredocs, split at `&&`, `||`, `;`, `|` and
    /// `&`), as words.
    pub(crate) fn commands(&self) -> Vec<Vec<String>> {
        let mut texts = vec![self.text()];
        texts.extend(self.heredocs.iter().cloned());
        let mut out = Vec::new();
        for text in texts {
            for line in text.lines() {
                let Some(words) = shlex::split(line) else {
                    continue;
                };
                let mut current = Vec::new();
                for w in words {
                    if matches!(w.as_str(), "&&" | "||" | ";" | "|" | "&") {
                        out.push(std::mem::take(&mut current));
                    } else if let Some(w) = w.strip_suffix(';') {
                        current.push(w.to_owned());
                        out.push(std::mem::take(&mut current));
                    } else {
                        current.push(w);
                    }
                }
                out.push(current);
            }
        }
        out.retain(|c| !c.is_empty());
        out
    }

    /// The arguments as one text (exec-form items joined by spaces).
    pub(crate) fn text(&self) -> String {
        match &self.args {
            Args::Exec(list) => list.join(" "),
            Args::Shell(text) => text.clone(),
        }
    }
}

impl Dockerfile {
    /// The build stages in order; instructions before the first `FROM` (`ARG`) belong to none.
    pub(crate) fn stages(&self) -> Vec<Stage<'_>> {
        let starts: Vec<usize> = self
            .instructions
            .iter()
            .enumerate()
            .filter(|(_, i)| i.keyword == "FROM")
            .map(|(n, _)| n)
            .collect();
        let mut stages = Vec::new();
        for (k, &start) in starts.iter().enumerate() {
            let end = starts
                .get(k + 1)
                .copied()
                .unwrap_or(self.instructions.len());
            let from = &self.instructions[start];
            let words = from.words().unwrap_or_default();
            let image = words.first().cloned().unwrap_or_default();
            let name = match words.as_slice() {
                [_, r#as, name, ..] if r#as.eq_ignore_ascii_case("as") => {
                    Some(name.to_ascii_lowercase())
                }
                _ => None,
            };
            stages.push(Stage {
                from,
                image,
                name,
                body: &self.instructions[start + 1..end],
            });
        }
        stages
    }

    /// The stages the final stage is built on, final first: following `FROM <earlier stage>`.
    pub(crate) fn final_chain(&self) -> Vec<Stage<'_>> {
        let stages = self.stages();
        let mut chain = Vec::new();
        let Some(mut index) = stages.len().checked_sub(1) else {
            return chain;
        };
        loop {
            let stage = stages[index].clone();
            let base = stage.image.to_ascii_lowercase();
            chain.push(stage);
            match stages[..index]
                .iter()
                .rposition(|s| s.name.as_deref() == Some(base.as_str()))
            {
                Some(earlier) => index = earlier,
                None => return chain,
            }
        }
    }
}

/// Parses `text`.
pub(crate) fn parse(text: &str) -> Dockerfile {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let (escape, mut n) = directives(&lines);
    let mut instructions = Vec::new();
    while n < lines.len() {
        let line = lines[n];
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            n += 1;
            continue;
        }
        let first = n;
        let mut logical = String::new();
        loop {
            let current = lines[n];
            n += 1;
            match continued(current, escape) {
                Some(body) => {
                    logical.push_str(body);
                    // Comment and empty lines inside a continuation are dropped.
                    while n < lines.len() && {
                        let t = lines[n].trim_start();
                        t.is_empty() || t.starts_with('#')
                    } {
                        n += 1;
                    }
                    if n >= lines.len() {
                        break;
                    }
                }
                None => {
                    logical.push_str(current);
                    break;
                }
            }
        }
        let mut instruction = instruction(first + 1, &logical);
        for word in heredoc_words(&instruction) {
            let mut body = String::new();
            while n < lines.len() {
                let current = lines[n];
                n += 1;
                let end = if word.strip_tabs {
                    current.trim_start_matches('\t')
                } else {
                    current
                };
                if end == word.word {
                    break;
                }
                body.push_str(current);
                body.push('\n');
            }
            instruction.heredocs.push(body);
        }
        instructions.push(instruction);
    }
    Dockerfile { instructions }
}

/// The escape character from the parser directives, and the index of the first line after them.
fn directives(lines: &[&str]) -> (char, usize) {
    let mut escape = '\\';
    let mut n = 0;
    while let Some(line) = lines.get(n) {
        let Some(rest) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            break;
        }
        if key.eq_ignore_ascii_case("escape") && value.trim() == "`" {
            escape = '`';
        }
        n += 1;
    }
    (escape, n)
}

/// The line without its trailing escape character, if it continues on the next line.
fn continued(line: &str, escape: char) -> Option<&str> {
    let trimmed = line.trim_end();
    trimmed.strip_suffix(escape)
}

fn instruction(line: usize, logical: &str) -> Instruction {
    let logical = logical.trim();
    let (keyword, mut rest) = match logical.split_once(char::is_whitespace) {
        Some((k, r)) => (k, r.trim_start()),
        None => (logical, ""),
    };
    let keyword = keyword.to_ascii_uppercase();
    let mut flags = Vec::new();
    if keyword != "ONBUILD" {
        while let Some(after) = rest.strip_prefix("--") {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            let flag = &after[..end];
            let (name, value) = match flag.split_once('=') {
                Some((n, v)) => (n, Some(unquote(v).to_owned())),
                None => (flag, None),
            };
            flags.push(Flag {
                name: name.to_ascii_lowercase(),
                value,
            });
            rest = after[end..].trim_start();
        }
    }
    let args = match exec_form(rest) {
        Some(list) => Args::Exec(list),
        None => Args::Shell(rest.to_owned()),
    };
    Instruction {
        line,
        keyword,
        flags,
        args,
        heredocs: Vec::new(),
    }
}

fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

/// The list, when `rest` is a JSON array of strings.
fn exec_form(rest: &str) -> Option<Vec<String>> {
    if !rest.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(rest).ok()
}

/// A heredoc's terminating word.
struct HeredocWord {
    word: String,
    /// `<<-EOF`: leading tabs are stripped before comparing.
    strip_tabs: bool,
}

/// The heredocs `RUN`, `COPY` and `ADD` open (`<<EOF`, `<<-EOF`, `<<"EOF"`), in order.
fn heredoc_words(instruction: &Instruction) -> Vec<HeredocWord> {
    if !matches!(instruction.keyword.as_str(), "RUN" | "COPY" | "ADD") {
        return Vec::new();
    }
    let Args::Shell(text) = &instruction.args else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("<<") {
        let mut after = &rest[at + 2..];
        let strip_tabs = after.starts_with('-');
        if strip_tabs {
            after = &after[1..];
        }
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
        if let Some(q) = quote {
            after = &after[1..];
            let end = after.find(q).unwrap_or(after.len());
            let word = &after[..end];
            if !word.is_empty() {
                found.push(HeredocWord {
                    word: word.to_owned(),
                    strip_tabs,
                });
            }
            rest = &after[end..];
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let word = &after[..end];
            if !word.is_empty() && word.chars().next().is_some_and(|c| !c.is_ascii_digit()) {
                found.push(HeredocWord {
                    word: word.to_owned(),
                    strip_tabs,
                });
            }
            rest = &after[end..];
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(d: &Dockerfile) -> Vec<(usize, &str)> {
        d.instructions
            .iter()
            .map(|i| (i.line, i.keyword.as_str()))
            .collect()
    }

    #[test]
    fn instructions_keep_their_keyword_line() {
        let d = parse("# comment\nFROM python:3.11-slim\n\nrun pip install \\\n  fastapi\nCMD [\"uvicorn\"]\n");
        assert_eq!(keywords(&d), vec![(2, "FROM"), (4, "RUN"), (6, "CMD")]);
        assert_eq!(
            d.instructions[1].args,
            Args::Shell("pip install   fastapi".into())
        );
    }

    #[test]
    fn comments_and_empty_lines_inside_a_continuation_are_dropped() {
        let d = parse("RUN a \\\n# note\n\n  && b\nUSER user\n");
        assert_eq!(keywords(&d), vec![(1, "RUN"), (5, "USER")]);
        assert_eq!(d.instructions[0].text(), "a   && b");
    }

    #[test]
    fn the_escape_directive_changes_the_continuation_character() {
        let d = parse("# escape=`\nFROM x\nRUN dir c:\\ `\n  && echo\nUSER u\n");
        assert_eq!(keywords(&d), vec![(2, "FROM"), (3, "RUN"), (5, "USER")]);
        assert_eq!(d.instructions[1].text(), "dir c:\\   && echo");
    }

    #[test]
    fn a_directive_after_an_instruction_is_a_comment() {
        let d = parse("FROM x\n# escape=`\nRUN a `\nUSER u\n");
        assert_eq!(keywords(&d), vec![(1, "FROM"), (3, "RUN"), (4, "USER")]);
    }

    #[test]
    fn exec_and_shell_forms() {
        let d =
            parse("CMD [\"uvicorn\", \"app:app\"]\nCMD uvicorn 'app:app' --port 1\nCMD [broken\n");
        assert_eq!(
            d.instructions[0].args,
            Args::Exec(vec!["uvicorn".into(), "app:app".into()])
        );
        assert_eq!(
            d.instructions[1].words().unwrap(),
            vec!["uvicorn", "app:app", "--port", "1"]
        );
        assert_eq!(d.instructions[2].args, Args::Shell("[broken".into()));
    }

    #[test]
    fn flags_are_split_from_the_arguments() {
        let d =
            parse("COPY --chown=user:user --from=build /a /b\nRUN --mount=type=secret,id=X cat\n");
        assert_eq!(d.instructions[0].flag("chown"), Some("user:user"));
        assert_eq!(d.instructions[0].flag("from"), Some("build"));
        assert_eq!(d.instructions[0].words().unwrap(), vec!["/a", "/b"]);
        assert_eq!(d.instructions[1].flag("mount"), Some("type=secret,id=X"));
    }

    #[test]
    fn heredoc_bodies_are_not_instructions() {
        let text = "FROM x\nRUN <<EOF\nUSER root\nEXPOSE 1\nEOF\nCOPY <<-\"A\" <<B /f\n\tx\n\tA\ny\nB\nUSER user\n";
        let d = parse(text);
        assert_eq!(
            keywords(&d),
            vec![(1, "FROM"), (2, "RUN"), (6, "COPY"), (11, "USER")]
        );
        assert_eq!(d.instructions[1].heredocs, vec!["USER root\nEXPOSE 1\n"]);
        assert_eq!(d.instructions[2].heredocs, vec!["\tx\n", "y\n"]);
    }

    #[test]
    fn stages_and_the_final_chain() {
        let d = parse(
            "ARG V=3\nFROM python:3.11 AS base\nUSER user\nFROM node AS web\nFROM base\nCMD x\n",
        );
        let stages = d.stages();
        assert_eq!(stages.len(), 3);
        assert_eq!(stages[0].name.as_deref(), Some("base"));
        assert_eq!(stages[0].body.len(), 1);
        let chain: Vec<String> = d.final_chain().into_iter().map(|s| s.image).collect();
        assert_eq!(chain, vec!["base", "python:3.11"]);
    }

    #[test]
    fn anything_parses() {
        for text in [
            "",
            "\\",
            "RUN \\",
            "RUN <<",
            "RUN <<EOF",
            "COPY --",
            "FROM",
            "# escape=`\n`",
            "\u{feff}FROM x",
        ] {
            let d = parse(text);
            let _ = d.stages();
            let _ = d.final_chain();
        }
    }
}
