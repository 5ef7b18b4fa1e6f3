//! The ASGI server a container starts, read from the final stage's `ENTRYPOINT` and `CMD`
//! (through `sh -c`, `exec`, `python -m`, `uv run`, `poetry run`, `pipenv run`, `pdm run` and a
//! start script of the project): which server, the file and line that start it, and where it
//! listens. A value that cannot be known from the files
//! (an unset variable, a config file) is unknown, never guessed.

use std::collections::HashMap;

use super::program;
use crate::check::dockerfile::{Args, Instruction, Stage};
use crate::check::Project;

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Uvicorn,
    Gunicorn,
    Hypercorn,
    /// `fastapi run` (or `fastapi dev`, `dev` true).
    FastapiCli {
        dev: bool,
    },
    /// `uvicorn.run(...)` in the Python file the container runs (its keyword arguments as
    /// options, see [`program`]).
    UvicornRun,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Uvicorn => "uvicorn",
            Kind::Gunicorn => "gunicorn",
            Kind::Hypercorn => "hypercorn",
            Kind::FastapiCli { dev: false } => "fastapi run",
            Kind::FastapiCli { dev: true } => "fastapi dev",
            Kind::UvicornRun => "uvicorn.run",
        }
    }
}

/// A server start found in the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Server {
    pub kind: Kind,
    /// The file and 1-based line that start it.
    pub file: String,
    pub line: usize,
    /// Its arguments after the program name.
    pub args: Vec<String>,
}

/// Where a server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bind {
    pub host: String,
    pub port: u16,
    /// Whether this is the server's default, not written anywhere.
    pub default: bool,
}

/// The environment the final stage sets (`ENV`, and `ARG` defaults), ancestors first.
pub(crate) fn environment(chain: &[Stage<'_>]) -> HashMap<String, String> {
    let mut env = HashMap::new();
    for stage in chain.iter().rev() {
        for i in stage.body {
            if i.keyword != "ENV" && i.keyword != "ARG" {
                continue;
            }
            for (key, value) in assignments(i) {
                if let Some(value) = value {
                    env.insert(key, value);
                }
            }
        }
    }
    env
}

/// The `KEY=value` pairs of an `ENV` or `ARG` (`ENV KEY value` too; `ARG KEY` has no value).
pub(crate) fn assignments(i: &Instruction) -> Vec<(String, Option<String>)> {
    let Some(words) = i.words() else {
        return Vec::new();
    };
    match words.as_slice() {
        [key, rest @ ..] if i.keyword == "ENV" && !key.contains('=') && !rest.is_empty() => {
            vec![(key.clone(), Some(rest.join(" ")))]
        }
        _ => words
            .iter()
            .map(|w| match w.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (w.clone(), None),
            })
            .collect(),
    }
}

/// The server the final stage starts, if one of the known servers is started.
pub(crate) fn find(
    project: &Project,
    dockerfile: &str,
    dir: &str,
    chain: &[Stage<'_>],
) -> Option<Server> {
    let last = |keyword: &str| {
        chain
            .iter()
            .find_map(|s| s.body.iter().rev().find(|i| i.keyword == keyword))
    };
    let entrypoint = last("ENTRYPOINT");
    let cmd = last("CMD");
    let mut parts: Vec<(&Instruction, Vec<String>)> = Vec::new();
    if let Some(e) = entrypoint {
        parts.push((e, start_words(e)?));
    }
    if let Some(c) = cmd {
        if entrypoint.is_none_or(|e| matches!(e.args, Args::Exec(_))) {
            parts.push((c, start_words(c)?));
        }
    }
    let line = parts.last()?.0.line;
    let words: Vec<String> = parts.into_iter().flat_map(|(_, w)| w).collect();
    for segment in &commands(&words, 0) {
        let segment = segment.as_slice();
        if let Some((kind, args)) = server(segment) {
            let server_line = parts_line(entrypoint, cmd, segment).unwrap_or(line);
            return Some(Server {
                kind,
                file: dockerfile.to_owned(),
                line: server_line,
                args,
            });
        }
        if let Some(found) = script(project, dir, segment) {
            return Some(found);
        }
        if let Some(found) = from_python(project, dir, segment) {
            return Some(found);
        }
    }
    None
}

/// A `python …` command whose file calls `uvicorn.run(...)`.
fn from_python(project: &Project, dir: &str, segment: &[String]) -> Option<Server> {
    let run = program::find(project, dir, segment)?;
    Some(Server {
        kind: Kind::UvicornRun,
        file: run.file,
        line: run.line,
        args: run.args,
    })
}

/// The line of the instruction the server's program word comes from.
fn parts_line(
    entrypoint: Option<&Instruction>,
    cmd: Option<&Instruction>,
    segment: &[String],
) -> Option<usize> {
    let program = segment.first()?;
    match (entrypoint, cmd) {
        (Some(e), Some(c)) => {
            let in_entrypoint = start_words(e)
                .unwrap_or_default()
                .iter()
                .any(|w| w == program || w.contains(program.as_str()));
            Some(if in_entrypoint { e.line } else { c.line })
        }
        (Some(e), None) => Some(e.line),
        (None, Some(c)) => Some(c.line),
        (None, None) => None,
    }
}

/// An instruction's words; a shell form becomes the words of its command.
fn start_words(i: &Instruction) -> Option<Vec<String>> {
    match &i.args {
        Args::Exec(list) => Some(list.clone()),
        Args::Shell(text) => shlex::split(text),
    }
}

/// `sh -c "…"` and the like: the command string, split.
fn shell_command(words: &[String]) -> Option<Vec<String>> {
    let program = basename(words.first()?);
    if !matches!(program, "sh" | "bash" | "dash" | "ash" | "zsh") {
        return None;
    }
    let c = words
        .iter()
        .position(|w| w.starts_with('-') && !w.starts_with("--") && w.contains('c'))?;
    shlex::split(words.get(c + 1)?)
}

/// Options of `uv run` (and `poetry`, `pipenv`, `pdm run`) that take a value as the next word.
const RUNNER_VALUE_OPTIONS: &[&str] = &[
    "--with",
    "--with-editable",
    "--with-requirements",
    "--python",
    "-p",
    "--env-file",
    "--extra",
    "--group",
    "--only-group",
    "--no-group",
    "--package",
    "--directory",
    "--project",
    "--index",
    "--default-index",
    "-C",
];

/// The simple commands `words` run, each without the wrappers before its program: `exec`,
/// `env`, `nohup`, variable assignments, `uv run`, `poetry run`, `pipenv run`, `pdm run`
/// (`uv run main.py` is `python main.py`), and `sh -c "…"` (its command, split), to a depth
/// of 4 shells.
fn commands(words: &[String], depth: usize) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for segment in segments(words) {
        let inner = unwrapped(segment);
        match shell_command(&inner) {
            Some(nested) if depth < 4 => out.extend(commands(&nested, depth + 1)),
            _ => out.push(inner),
        }
    }
    out
}

/// A simple command without the wrappers before its program.
fn unwrapped(segment: &[String]) -> Vec<String> {
    let mut words = segment;
    while let Some(first) = words.first() {
        let is_assignment = first
            .split_once('=')
            .is_some_and(|(k, _)| !k.is_empty() && !k.starts_with('-'));
        if matches!(basename(first), "exec" | "env" | "nohup") || is_assignment {
            words = &words[1..];
            continue;
        }
        let runner = matches!(basename(first), "uv" | "poetry" | "pipenv" | "pdm")
            && words.get(1).is_some_and(|w| w == "run");
        if !runner {
            break;
        }
        words = &words[2..];
        while let Some(option) = words.first().filter(|w| w.starts_with('-')) {
            let takes_value = RUNNER_VALUE_OPTIONS.contains(&option.as_str());
            let done = option == "--";
            words = &words[(if takes_value { 2 } else { 1 }).min(words.len())..];
            if done {
                break;
            }
        }
        if words.first().is_some_and(|w| w.ends_with(".py")) {
            let mut python = vec!["python".to_owned()];
            python.extend_from_slice(words);
            return python;
        }
    }
    words.to_vec()
}

/// The simple commands of a list of words, split at `&&`, `||`, `;`, `|` and `&`.
fn segments(words: &[String]) -> Vec<&[String]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (n, w) in words.iter().enumerate() {
        if matches!(w.as_str(), "&&" | "||" | ";" | "|" | "&") || w.ends_with(';') {
            let end = if w.ends_with(';') && w.len() > 1 {
                n + 1
            } else {
                n
            };
            out.push(&words[start..end]);
            start = n + 1;
        }
    }
    out.push(&words[start..]);
    out
}

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// The server a simple command starts, and its arguments.
fn server(segment: &[String]) -> Option<(Kind, Vec<String>)> {
    let mut words = segment;
    while let Some(first) = words.first() {
        let is_assignment = first
            .split_once('=')
            .is_some_and(|(k, _)| !k.is_empty() && !k.starts_with('-'));
        if matches!(basename(first), "exec" | "env" | "nohup") || is_assignment {
            words = &words[1..];
        } else {
            break;
        }
    }
    let program = basename(words.first()?);
    let (program, rest) = if program.starts_with("python") && words.get(1)? == "-m" {
        (words.get(2)?.as_str(), &words[3..])
    } else {
        (program, &words[1..])
    };
    let tidy = |args: &[String]| -> Vec<String> {
        args.iter()
            .map(|a| a.trim_end_matches(';').to_owned())
            .collect()
    };
    let kind = match program {
        "uvicorn" => Kind::Uvicorn,
        "gunicorn" => Kind::Gunicorn,
        "hypercorn" => Kind::Hypercorn,
        "fastapi" | "fastapi_cli" => match rest.first().map(String::as_str) {
            Some("run") => Kind::FastapiCli { dev: false },
            Some("dev") => Kind::FastapiCli { dev: true },
            _ => return None,
        },
        _ => return None,
    };
    let args = match kind {
        Kind::FastapiCli { .. } => tidy(&rest[1..]),
        _ => tidy(rest),
    };
    Some((kind, args))
}

/// A start script of the project (`./start.sh`, `bash start.sh`) that starts a server.
fn script(project: &Project, dir: &str, segment: &[String]) -> Option<Server> {
    let mut words = segment.iter().map(String::as_str);
    let mut first = words.next()?;
    if matches!(basename(first), "sh" | "bash" | "exec") {
        first = words.next()?;
    }
    let name = basename(first);
    if !name.ends_with(".sh") {
        return None;
    }
    let path = if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    };
    let (file, text) = project
        .files()
        .find(|(p, _)| *p == path)
        .or_else(|| project.named(|n| n == name).next())?;
    let mut logical = String::new();
    let mut start = 0;
    for (n, line) in text.lines().enumerate() {
        if logical.is_empty() {
            start = n + 1;
        }
        if let Some(body) = line.trim_end().strip_suffix('\\') {
            logical.push_str(body);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let current = std::mem::take(&mut logical);
        let trimmed = current.trim_start();
        if trimmed.starts_with('#') {
            continue;
        }
        let Some(words) = shlex::split(trimmed) else {
            continue;
        };
        for segment in &commands(&words, 0) {
            let segment = segment.as_slice();
            if let Some((kind, args)) = server(segment) {
                return Some(Server {
                    kind,
                    file: file.to_owned(),
                    line: start,
                    args,
                });
            }
            if let Some(found) = from_python(project, dir, segment) {
                return Some(found);
            }
        }
    }
    None
}

impl Server {
    /// The value of option `names` (`--port 1`, `--port=1`, `-b1`), last one given.
    pub(crate) fn option(&self, names: &[&str]) -> Option<&str> {
        self.options(names).pop()
    }

    /// Every value of option `names`, in order.
    pub(crate) fn options(&self, names: &[&str]) -> Vec<&str> {
        let mut found = Vec::new();
        let mut args = self.args.iter();
        while let Some(arg) = args.next() {
            for name in names {
                if arg == name {
                    if let Some(value) = args.as_slice().first() {
                        found.push(value.as_str());
                    }
                } else if let Some(value) = arg.strip_prefix(name).and_then(|rest| {
                    rest.strip_prefix('=')
                        .or(Some(rest).filter(|_| name.len() == 2))
                }) {
                    if !value.is_empty() {
                        found.push(value);
                    }
                }
            }
        }
        found
    }

    /// Whether flag `name` is given (`--name` or `--name=…`).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.args
            .iter()
            .any(|a| a == name || a.starts_with(&format!("{name}=")))
    }

    /// Where it listens, when that can be known: `None` when unknown.
    pub(crate) fn binds(&self, env: &HashMap<String, String>) -> Option<Vec<Bind>> {
        match self.kind {
            Kind::Uvicorn => {
                if self.has("--uds") || self.has("--fd") {
                    return None;
                }
                let (host, host_default) = match self.option(&["--host"]) {
                    Some(h) => (expand(h, env)?, false),
                    None => match env.get("UVICORN_HOST") {
                        Some(h) => (h.clone(), false),
                        None => ("127.0.0.1".to_owned(), true),
                    },
                };
                let (port, port_default) = match self.option(&["--port"]) {
                    Some(p) => (expand(p, env)?, false),
                    None => match env.get("UVICORN_PORT") {
                        Some(p) => (p.clone(), false),
                        None => ("8000".to_owned(), true),
                    },
                };
                Some(vec![Bind {
                    host,
                    port: port.parse().ok()?,
                    default: host_default || port_default,
                }])
            }
            Kind::UvicornRun => {
                if self.has("--uds") || self.has("--fd") {
                    return None;
                }
                // `uvicorn.run` reads no UVICORN_* variables: those are the command line's.
                let value = |name: &str, default: &str| match self.option(&[name]) {
                    Some(program::UNKNOWN) => None,
                    Some(v) => Some((expand(v, env)?, false)),
                    None => Some((default.to_owned(), true)),
                };
                let (host, host_default) = value("--host", "127.0.0.1")?;
                let (port, port_default) = value("--port", "8000")?;
                Some(vec![Bind {
                    host,
                    port: port.parse().ok()?,
                    default: host_default || port_default,
                }])
            }
            Kind::FastapiCli { dev } => {
                let host = match self.option(&["--host"]) {
                    Some(h) => expand(h, env)?,
                    None if dev => "127.0.0.1".to_owned(),
                    None => "0.0.0.0".to_owned(),
                };
                let port = match self.option(&["--port"]) {
                    Some(p) => expand(p, env)?,
                    None => "8000".to_owned(),
                };
                Some(vec![Bind {
                    host,
                    port: port.parse().ok()?,
                    default: self.option(&["--port"]).is_none(),
                }])
            }
            Kind::Gunicorn | Kind::Hypercorn => {
                let given = self.options(&["-b", "--bind"]);
                if given.is_empty() {
                    let configured =
                        self.has("-c") || self.has("--config") || self.kind == Kind::Gunicorn;
                    if configured {
                        return None;
                    }
                    return Some(vec![Bind {
                        host: "127.0.0.1".to_owned(),
                        port: 8000,
                        default: true,
                    }]);
                }
                given
                    .into_iter()
                    .map(|b| {
                        let b = expand(b, env)?;
                        let (host, port) = b.rsplit_once(':')?;
                        if host == "unix" || host.starts_with("fd") {
                            return None;
                        }
                        Some(Bind {
                            host: host.trim_matches(['[', ']']).to_owned(),
                            port: port.parse().ok()?,
                            default: false,
                        })
                    })
                    .collect()
            }
        }
    }
}

/// `value` with `$NAME` / `${NAME}` replaced from `env`, and `${NAME:-default}` by the default
/// when `NAME` is unset or empty there (as a shell does); `None` when a variable without a
/// default is not set there.
pub(crate) fn expand(value: &str, env: &HashMap<String, String>) -> Option<String> {
    if !value.contains('$') {
        return Some(value.to_owned());
    }
    let re = regex::Regex::new(
        r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}$]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)",
    )
    .ok()?;
    let mut out = String::new();
    let mut last = 0;
    for caps in re.captures_iter(value) {
        let whole = caps.get(0)?;
        let name = caps.get(1).or_else(|| caps.get(3))?.as_str();
        out.push_str(&value[last..whole.start()]);
        match (env.get(name), caps.get(2)) {
            (Some(set), Some(default)) if set.is_empty() => out.push_str(default.as_str()),
            (Some(set), _) => out.push_str(set),
            (None, Some(default)) => out.push_str(default.as_str()),
            (None, None) => return None,
        }
        last = whole.end();
    }
    out.push_str(&value[last..]);
    if out.contains('$') {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::dockerfile::parse;

    fn server_of(dockerfile: &str, files: &[(&str, &str)]) -> Option<Server> {
        let mut all = vec![("Dockerfile", dockerfile)];
        all.extend_from_slice(files);
        let project = Project::from_files(&all);
        let d = parse(dockerfile);
        let chain = d.final_chain();
        find(&project, "Dockerfile", "", &chain)
    }

    #[test]
    fn exec_shell_and_sh_c_forms() {
        let s = server_of(
            "FROM p\nCMD [\"uvicorn\", \"m:app\", \"--port\", \"7860\"]\n",
            &[],
        )
        .unwrap();
        assert_eq!((s.kind, s.line), (Kind::Uvicorn, 2));
        assert_eq!(s.option(&["--port"]), Some("7860"));
        let s = server_of(
            "FROM p\nCMD cd /app && exec python -m uvicorn m:app --host=0.0.0.0\n",
            &[],
        )
        .unwrap();
        assert_eq!(s.option(&["--host"]), Some("0.0.0.0"));
        let s = server_of(
            "FROM p\nENTRYPOINT [\"sh\", \"-c\"]\nCMD [\"gunicorn -b :7860 m:app\"]\n",
            &[],
        );
        assert_eq!(s.map(|s| (s.kind, s.line)), Some((Kind::Gunicorn, 3)));
        assert!(server_of("FROM p\nCMD [\"python\", \"app.py\"]\n", &[]).is_none());
    }

    #[test]
    fn start_scripts_are_followed() {
        let s = server_of(
            "FROM p\nCMD [\"bash\", \"start.sh\"]\n",
            &[(
                "start.sh",
                "#!/bin/sh\nset -e\nexec fastapi run app/main.py \\\n  --port 7860\n",
            )],
        )
        .unwrap();
        assert_eq!((s.file.as_str(), s.line), ("start.sh", 3));
        assert_eq!(s.kind, Kind::FastapiCli { dev: false });
        assert_eq!(s.option(&["--port"]), Some("7860"));
    }

    #[test]
    fn binds_and_defaults() {
        let env = HashMap::from([("PORT".to_owned(), "7860".to_owned())]);
        let s = server_of("FROM p\nCMD uvicorn m:app --port $PORT\n", &[]).unwrap();
        let b = s.binds(&env).unwrap();
        assert_eq!(
            (b[0].host.as_str(), b[0].port, b[0].default),
            ("127.0.0.1", 7860, true)
        );
        assert_eq!(s.binds(&HashMap::new()), None, "unset variable: unknown");
        let s = server_of(
            "FROM p\nCMD hypercorn m:app -b 0.0.0.0:7860 --bind [::]:7861\n",
            &[],
        )
        .unwrap();
        let ports: Vec<u16> = s.binds(&env).unwrap().iter().map(|b| b.port).collect();
        assert_eq!(ports, vec![7860, 7861]);
        let s = server_of(
            "FROM p\nCMD gunicorn m:app -k uvicorn.workers.UvicornWorker\n",
            &[],
        )
        .unwrap();
        assert_eq!(s.binds(&env), None, "gunicorn may read gunicorn.conf.py");
    }

    #[test]
    fn uvicorn_run_in_the_python_file_the_container_runs() {
        let main = "import os\nimport uvicorn\nfrom app.main import app\n\nif __name__ == \"__main__\":\n    uvicorn.run(app, port=int(os.getenv(\"PORT\", \"8000\")))\n";
        let s = server_of(
            "FROM p\nWORKDIR /srv\nCOPY . .\nCMD [\"python\", \"run.py\"]\n",
            &[("run.py", main)],
        )
        .unwrap();
        assert_eq!(
            (s.kind, s.file.as_str(), s.line),
            (Kind::UvicornRun, "run.py", 6)
        );
        // The host is uvicorn.run's default; UVICORN_HOST is for the command line only.
        let env = HashMap::from([("UVICORN_HOST".to_owned(), "0.0.0.0".to_owned())]);
        let b = s.binds(&env).unwrap();
        assert_eq!(
            (b[0].host.as_str(), b[0].port, b[0].default),
            ("127.0.0.1", 8000, true)
        );
        let env = HashMap::from([("PORT".to_owned(), "7860".to_owned())]);
        assert_eq!(s.binds(&env).unwrap()[0].port, 7860);
        // Through a start script, and with a value that cannot be known.
        let unknown = "import uvicorn\nfrom conf import settings\nuvicorn.run(\"m:app\", host=settings.host, port=7860)\n";
        let s = server_of(
            "FROM p\nCMD [\"./start.sh\"]\n",
            &[
                ("start.sh", "#!/bin/sh\nexec python -m server\n"),
                ("server.py", unknown),
            ],
        )
        .unwrap();
        assert_eq!((s.file.as_str(), s.line), ("server.py", 3));
        assert_eq!(s.binds(&HashMap::new()), None);
    }

    #[test]
    fn shell_defaults_expand_as_a_shell_does() {
        let env = HashMap::from([
            ("SET".to_owned(), "1".to_owned()),
            ("EMPTY".to_owned(), String::new()),
        ]);
        assert_eq!(expand("${SET:-2}", &env).as_deref(), Some("1"));
        assert_eq!(expand("${EMPTY:-2}", &env).as_deref(), Some("2"));
        assert_eq!(expand("${UNSET:-7860}", &env).as_deref(), Some("7860"));
        assert_eq!(expand("a${UNSET:-b}c$SET", &env).as_deref(), Some("abc1"));
        assert_eq!(expand("${UNSET}", &env), None);
        assert_eq!(expand("${UNSET:-$SET}", &env), None, "nested: unknown");
        let s = server_of("FROM p\nCMD uvicorn m:app --port ${PORT:-7860}\n", &[]).unwrap();
        assert_eq!(s.binds(&HashMap::new()).unwrap()[0].port, 7860);
    }

    #[test]
    fn env_and_arg_values() {
        let d = parse("FROM p\nENV A=1 B=\"two words\"\nENV C 3 4\nARG D=5\nARG E\n");
        let env = environment(&d.final_chain());
        assert_eq!(env.get("B").map(String::as_str), Some("two words"));
        assert_eq!(env.get("C").map(String::as_str), Some("3 4"));
        assert_eq!(env.get("D").map(String::as_str), Some("5"));
        assert!(!env.contains_key("E"));
    }

    #[test]
    fn project_runners_and_shell_wrappers_start_the_server() {
        let kind_port = |dockerfile: &str, files: &[(&str, &str)]| {
            server_of(dockerfile, files).map(|s| (s.kind, s.option(&["--port"]).map(str::to_owned)))
        };
        let port = Some("7860".to_owned());
        for (dockerfile, kind) in [
            ("FROM p\nCMD [\"uv\", \"run\", \"fastapi\", \"run\", \"--port\", \"7860\", \"main.py\"]\n", Kind::FastapiCli { dev: false }),
            ("FROM p\nCMD [\"poetry\", \"run\", \"uvicorn\", \"m:app\", \"--port\", \"7860\"]\n", Kind::Uvicorn),
            ("FROM p\nCMD pipenv run python -m uvicorn m:app --port 7860\n", Kind::Uvicorn),
            ("FROM p\nCMD [\"pdm\", \"run\", \"gunicorn\", \"m:app\", \"--port\", \"7860\"]\n", Kind::Gunicorn),
            ("FROM p\nCMD [\"uv\", \"run\", \"--frozen\", \"--with\", \"x\", \"--\", \"uvicorn\", \"m:app\", \"--port\", \"7860\"]\n", Kind::Uvicorn),
            ("FROM p\nCMD exec sh -c \"cd /app && uvicorn m:app --port 7860\"\n", Kind::Uvicorn),
            ("FROM p\nCMD alembic upgrade head && /bin/bash -c 'exec uv run uvicorn m:app --port 7860'\n", Kind::Uvicorn),
        ] {
            assert_eq!(kind_port(dockerfile, &[]), Some((kind, port.clone())), "{dockerfile}");
        }
        let main = "import uvicorn\nuvicorn.run(\"m:app\", host=\"0.0.0.0\", port=7860)\n";
        let s = server_of(
            "FROM p\nCMD [\"uv\", \"run\", \"main.py\"]\n",
            &[("main.py", main)],
        )
        .unwrap();
        assert_eq!(
            (s.kind, s.file.as_str(), s.line),
            (Kind::UvicornRun, "main.py", 2)
        );
        let s = server_of(
            "FROM p\nCMD [\"./start.sh\"]\n",
            &[(
                "start.sh",
                "#!/bin/sh\nexec poetry run uvicorn m:app --port 7860\n",
            )],
        )
        .unwrap();
        assert_eq!(
            (s.kind, s.file.as_str(), s.line),
            (Kind::Uvicorn, "start.sh", 2)
        );
        assert!(server_of("FROM p\nCMD [\"uv\", \"run\", \"pytest\"]\n", &[]).is_none());
    }
}
