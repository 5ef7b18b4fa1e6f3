//! The body of `README.md`, everything below the header, as the README rules read it: the URL
//! paths it names (in prose, code spans, tables, curl lines), its code spans, and the
//! `docker build` and `docker run` commands it gives. Work is linear in the README's size.

/// The most lines a `docker run` command may continue over with a trailing `\`.
const MAX_CONTINUED: usize = 20;

/// The most of a line read as part of a command: a command is a line or a few.
const MAX_COMMAND: usize = 4096;

/// `text`, cut to at most [`MAX_COMMAND`] bytes at a character boundary.
fn bounded(text: &str) -> &str {
    let mut end = text.len().min(MAX_COMMAND);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The lines below the header, each with its 1-based line number.
#[derive(Debug)]
pub(crate) struct Body<'a> {
    lines: Vec<(usize, &'a str)>,
    /// The line where the body starts (the header's closing `---` when the body is empty).
    start: usize,
}

/// A `docker run` command of the README.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DockerRun {
    pub line: usize,
    /// The image, without its `:tag`.
    pub image: String,
    /// The container side of each `-p`/`--publish` mapping, with the mapping as written.
    pub published: Vec<(u16, String)>,
    /// The command sets `PORT` (`-e PORT=…`), or passes an env file.
    pub sets_port: bool,
    pub env_file: bool,
    /// Words after the image: a command that replaces the image's own.
    pub overrides_command: bool,
}

/// The body of `text`, a whole README.md: below the header when there is one (a first line
/// `---` closed by another), else all of it.
pub(crate) fn body(text: &str) -> Body<'_> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let all: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
    let header_end = match all.first() {
        Some((_, first)) if first.trim_end() == "---" => all
            .iter()
            .skip(1)
            .find(|(_, l)| l.trim_end() == "---")
            .map(|(n, _)| *n),
        _ => None,
    };
    let lines: Vec<(usize, &str)> = all
        .into_iter()
        .filter(|(n, _)| header_end.is_none_or(|end| *n > end))
        .collect();
    let start = lines
        .iter()
        .find(|(_, l)| !l.trim().is_empty())
        .map(|(n, _)| *n)
        .or(header_end)
        .unwrap_or(1);
    Body { lines, start }
}

/// Whether a path segment is a parameter: `{id}`, `<id>`, `:id`, `$id`.
pub(crate) fn is_parameter(segment: &str) -> bool {
    segment.starts_with(['{', '<', ':', '$'])
}

/// The segments of a URL path, lower case, without empty ones.
pub(crate) fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .map(|s| s.trim_end_matches(['.', ',', ';', '!', '?']))
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Characters a path the README names may hold.
fn in_path(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-./{}<>:$~%".contains(c)
}

impl<'a> Body<'a> {
    /// The first line of the body that is not blank.
    pub(crate) fn start(&self) -> usize {
        self.start
    }

    /// Whether the body holds nothing but blank lines.
    pub(crate) fn is_blank(&self) -> bool {
        self.lines.iter().all(|(_, l)| l.trim().is_empty())
    }

    /// Every URL path the body names, as segments: `/predict`, `POST /api/items/{id}`,
    /// `http://localhost:7860/predict?x=1`, `curl …/predict`. A URL's scheme and host are
    /// dropped; words without a `/` are not paths.
    pub(crate) fn paths(&self) -> Vec<Vec<String>> {
        let mut paths = Vec::new();
        for (_, line) in &self.lines {
            for word in line.split(|c: char| !in_path(c)) {
                let word = match word.find("://") {
                    Some(at) => {
                        let rest = &word[at + 3..];
                        rest.find('/').map_or("", |slash| &rest[slash..])
                    }
                    None => word.find('/').map_or("", |slash| &word[slash..]),
                };
                let segments = segments(word);
                if !segments.is_empty() {
                    paths.push(segments);
                }
            }
        }
        paths
    }

    /// The text of every inline code span (`` `…` ``), trimmed.
    pub(crate) fn code_spans(&self) -> Vec<&'a str> {
        let mut spans = Vec::new();
        for (_, line) in &self.lines {
            let mut rest: &str = line;
            while let Some(open) = rest.find('`') {
                let ticks = rest[open..].len() - rest[open..].trim_start_matches('`').len();
                let after = &rest[open + ticks..];
                let fence = &rest[open..open + ticks];
                let Some(close) = after.find(fence) else {
                    break;
                };
                spans.push(after[..close].trim());
                rest = after[close + ticks..].trim_start_matches('`');
            }
        }
        spans
    }

    /// The images the body builds: each `docker build -t NAME[:tag] CONTEXT`, as NAME with
    /// whether CONTEXT is the folder itself (`.`), where the Space's Dockerfile is.
    pub(crate) fn built_images(&self) -> Vec<(String, bool)> {
        let mut images = Vec::new();
        for (line, _) in self.commands("docker build") {
            let words: Vec<&str> = line.split_whitespace().map(unquoted).collect();
            // The context: the word that is neither an option nor an option's value.
            let mut context = None;
            let mut rest = words.iter().skip(2);
            while let Some(word) = rest.next() {
                if BUILD_VALUED.contains(word) {
                    rest.next();
                } else if !word.starts_with('-') {
                    context = Some(word);
                }
            }
            // Another Dockerfile (`-f Dockerfile.dev`) builds another image.
            let other_file = words.iter().enumerate().any(|(i, w)| {
                let file = match *w {
                    "-f" | "--file" => words.get(i + 1).copied(),
                    w => w.strip_prefix("--file="),
                };
                file.is_some_and(|f| !matches!(f, "Dockerfile" | "./Dockerfile"))
            });
            let here = !other_file && context.is_some_and(|c| matches!(*c, "." | "./"));
            for (i, word) in words.iter().enumerate() {
                let tag = match *word {
                    "-t" | "--tag" => words.get(i + 1).copied(),
                    w => w.strip_prefix("--tag=").or_else(|| w.strip_prefix("-t=")),
                };
                if let Some(tag) = tag {
                    images.push((untagged(tag).to_owned(), here));
                }
            }
        }
        images
    }

    /// Every `docker run` command of the body, in code blocks, code spans or prose.
    pub(crate) fn docker_runs(&self) -> Vec<DockerRun> {
        self.commands("docker run")
            .into_iter()
            .filter_map(|(command, line)| docker_run(&command, line))
            .collect()
    }

    /// Each occurrence of `start` (`docker run`), from there to the end of the line or of the
    /// code span, joined with the lines a trailing `\` continues it over, with its line.
    fn commands(&self, start: &str) -> Vec<(String, usize)> {
        let mut commands = Vec::new();
        for (i, (number, line)) in self.lines.iter().enumerate() {
            let starts: Vec<usize> = line.match_indices(start).map(|(at, _)| at).collect();
            for (k, at) in starts.iter().enumerate() {
                // A command ends where the next one on its line starts.
                let end = starts.get(k + 1).copied().unwrap_or(line.len());
                let mut command = bounded(&line[*at..end]).to_owned();
                let mut next = i + 1;
                while command.trim_end().ends_with('\\')
                    && next < self.lines.len().min(i + MAX_CONTINUED)
                {
                    let trimmed = command.trim_end().trim_end_matches('\\').to_owned();
                    command = format!("{trimmed} {}", bounded(self.lines[next].1));
                    next += 1;
                }
                // A command continued past the bound ends there.
                let command_end = command.trim_end().trim_end_matches('\\').len();
                command.truncate(command_end);
                if let Some(tick) = command.find('`') {
                    command.truncate(tick);
                }
                commands.push((command, *number));
            }
        }
        commands
    }
}

/// `docker build` options that take a value as the next word.
const BUILD_VALUED: &[&str] = &[
    "-t",
    "--tag",
    "-f",
    "--file",
    "--build-arg",
    "--target",
    "--platform",
    "--label",
    "--network",
    "--secret",
    "--ssh",
    "--cache-from",
    "--cache-to",
    "-o",
    "--output",
    "--progress",
    "--iidfile",
    "--add-host",
    "--shm-size",
    "--ulimit",
];

/// `docker run` options that take a value as the next word.
const VALUED: &[&str] = &[
    "-a",
    "-c",
    "-e",
    "-h",
    "-l",
    "-m",
    "-u",
    "-v",
    "-w",
    "--add-host",
    "--attach",
    "--cap-add",
    "--cap-drop",
    "--cidfile",
    "--cpus",
    "--device",
    "--dns",
    "--entrypoint",
    "--env",
    "--env-file",
    "--expose",
    "--gpus",
    "--hostname",
    "--label",
    "--log-driver",
    "--memory",
    "--mount",
    "--name",
    "--network",
    "--platform",
    "--pull",
    "--restart",
    "--runtime",
    "--shm-size",
    "--ulimit",
    "--user",
    "--volume",
    "--workdir",
];

fn unquoted(word: &str) -> &str {
    word.trim_matches(['"', '\''])
}

/// An image name without its `:tag` or `@digest` (a registry's `host:port/` is kept).
fn untagged(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    let name_at = image.rfind('/').map_or(0, |slash| slash + 1);
    match image[name_at..].find(':') {
        Some(colon) => &image[..name_at + colon],
        None => image,
    }
}

/// The container port of a `-p` mapping: `[ip:][host:]container[/proto]`.
fn container_port(mapping: &str) -> Option<u16> {
    let mapping = unquoted(mapping);
    let port = mapping.split('/').next()?.rsplit(':').next()?;
    port.parse().ok()
}

fn docker_run(command: &str, line: usize) -> Option<DockerRun> {
    let mut words = command
        .split_whitespace()
        .skip(2)
        .filter(|w| *w != "\\")
        .map(unquoted);
    let mut run = DockerRun {
        line,
        image: String::new(),
        published: Vec::new(),
        sets_port: false,
        env_file: false,
        overrides_command: false,
    };
    while let Some(word) = words.next() {
        if !word.starts_with('-') {
            run.image = untagged(word).to_owned();
            run.overrides_command = words.next().is_some();
            return Some(run);
        }
        let (option, inline) = match word.split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o, Some(v)),
            _ => (word, None),
        };
        let (option, inline) = match option {
            o if o.starts_with("-p") && o.len() > 2 && !o.starts_with("--") => {
                ("-p", Some(&o[2..]))
            }
            o if o.starts_with("-e") && o.len() > 2 && !o.starts_with("--") => {
                ("-e", Some(&o[2..]))
            }
            // `-dp 8000:8000`, `-itp …`: a cluster of flags ending in `-p`.
            o if !o.starts_with("--") && o.len() > 2 && o.ends_with('p') => ("-p", inline),
            o => (o, inline),
        };
        let value = match option {
            "-p" | "--publish" => inline.or_else(|| words.next()),
            o if VALUED.contains(&o) => inline.or_else(|| words.next()),
            _ => None,
        };
        match (option, value) {
            ("-p" | "--publish", Some(mapping)) => {
                if let Some(port) = container_port(mapping) {
                    run.published.push((port, unquoted(mapping).to_owned()));
                }
            }
            ("-e" | "--env", Some(variable)) => {
                let name = unquoted(variable).split('=').next().unwrap_or("");
                run.sets_port |= name.eq_ignore_ascii_case("port");
            }
            ("--env-file", _) => run.env_file = true,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = "---\ntitle: x\nsdk: docker\n---\n\n# API\n\n| Method | Path |\n|---|---|\n| POST | `/predict` |\n\nCall `curl -X POST https://me-x.hf.space/api/items/{item_id}?q=1`.\nSee app/main.py and `health`.\n";

    #[test]
    fn the_body_starts_below_the_header() {
        let b = body(README);
        assert_eq!(b.start(), 6);
        assert_eq!(body("# Title\n---\nx\n").start(), 1);
        assert_eq!(body("---\nsdk: docker\n---\n").start(), 3);
        assert!(body("---\nsdk: docker\n---\n\n").is_blank());
        assert_eq!(body("").start(), 1);
    }

    #[test]
    fn paths_are_found_in_tables_urls_and_prose() {
        let paths = body(README).paths();
        assert!(paths.contains(&vec!["predict".to_owned()]), "{paths:?}");
        assert!(
            paths.contains(&vec![
                "api".to_owned(),
                "items".to_owned(),
                "{item_id}".to_owned()
            ]),
            "{paths:?}"
        );
        assert!(paths.contains(&vec!["main.py".to_owned()]), "{paths:?}");
        assert!(!paths
            .iter()
            .any(|p| p.contains(&"me-x.hf.space".to_owned())));
        assert!(!paths.iter().any(|p| p.contains(&"sdk".to_owned())));
    }

    #[test]
    fn code_spans_of_any_tick_count() {
        let b = body("Use ```/language-detection``` or `health` and `` a`b ``.\nOpen ` only");
        assert_eq!(b.code_spans(), vec!["/language-detection", "health", "a`b"]);
    }

    #[test]
    fn docker_run_commands_are_read_with_their_ports() {
        let b = body("```sh\ndocker build -t my-api:1 .\ndocker run --rm -it \\\n  -p 8000:8000 -e KEY=x my-api:1\n```\nor ```docker run -p 127.0.0.1:9000:7860/tcp --env PORT=7860 registry.hf.space/me-x:latest``` and `docker run -dp 5432:5432 postgres psql`\n");
        assert_eq!(b.built_images(), vec![("my-api".to_owned(), true)]);
        assert_eq!(
            body("docker build -f x/Dockerfile -t web:2 ./frontend\n").built_images(),
            vec![("web".to_owned(), false)]
        );
        assert_eq!(
            body("docker build . -t api --build-arg X=1\n").built_images(),
            vec![("api".to_owned(), true)]
        );
        let runs = b.docker_runs();
        assert_eq!(runs.len(), 3, "{runs:?}");
        assert_eq!(runs[0].line, 3);
        assert_eq!(runs[0].image, "my-api");
        assert_eq!(runs[0].published, vec![(8000, "8000:8000".to_owned())]);
        assert!(!runs[0].sets_port && !runs[0].overrides_command);
        assert_eq!(runs[1].image, "registry.hf.space/me-x");
        assert_eq!(runs[1].published[0].0, 7860);
        assert!(runs[1].sets_port);
        assert_eq!(runs[2].image, "postgres");
        assert_eq!(runs[2].published[0].0, 5432);
        assert!(runs[2].overrides_command);
    }

    #[test]
    fn a_run_without_an_image_is_no_command() {
        assert_eq!(body("docker run -p 8000:8000\n").docker_runs(), vec![]);
        assert_eq!(body("docker run -p\n").docker_runs(), vec![]);
        assert_eq!(
            body("docker run -p x:y img\n").docker_runs()[0].published,
            vec![]
        );
    }

    #[test]
    fn a_long_line_of_commands_is_read_in_linear_time() {
        // A README of 2 MiB, the most a file is read; quadratic work would take hours (its
        // time is measured by bench/check.py).
        let line = "docker run -p 8000:8000 é ".repeat(80_000);
        assert_eq!(body(&line).docker_runs().len(), 80_000);
    }

    #[test]
    fn continuations_are_bounded() {
        let long = format!("docker run \\\n{}img\n", "-d \\\n".repeat(100));
        assert_eq!(body(&long).docker_runs(), vec![]);
    }
}
