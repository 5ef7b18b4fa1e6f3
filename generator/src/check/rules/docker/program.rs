//! A server started by the app's own Python code: the container runs `python app.py` (or
//! `python -m package.module`), and that file calls `uvicorn.run(...)`. Its keyword arguments
//! become the options a `uvicorn` command line would have (`host="0.0.0.0"` is `--host
//! 0.0.0.0`), so the bind rules read them as they read a command line. A value read from the
//! environment becomes `$NAME` (or `${NAME:-default}` with a default); a value that cannot be
//! known from the file becomes [`UNKNOWN`], never a guess.

use crate::check::python::{Kind as ValueKind, Module, Value};
use crate::check::Project;

/// An option value that cannot be known from the files.
pub(crate) const UNKNOWN: &str = "${?}";

/// Where `uvicorn.run` is called, and its arguments as command-line options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run {
    pub file: String,
    pub line: usize,
    pub args: Vec<String>,
}

/// The Python file a `python …` command runs, relative to the project: `python [options]
/// FILE.py` or `python [options] -m MODULE`; `None` for anything else (`-c`, no file, a
/// file the project does not hold exactly once).
fn entry_file(project: &Project, dir: &str, segment: &[String]) -> Option<String> {
    // `exec python …`, `PYTHONUNBUFFERED=1 python …`
    let start = segment
        .iter()
        .position(|w| w != "exec" && !is_assignment(w))?;
    let (program, rest) = segment[start..].split_first()?;
    let program = program.rsplit('/').next().unwrap_or(program);
    let is_python = program == "python"
        || program
            .strip_prefix("python")
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'));
    if !is_python {
        return None;
    }
    let mut words = rest.iter();
    let relative = loop {
        let word = words.next()?;
        match word.as_str() {
            "-m" => {
                let module = words.next()?.replace('.', "/");
                break vec![format!("{module}.py"), format!("{module}/__main__.py")];
            }
            "-c" => return None,
            // Options that take a value.
            "-X" | "-W" => {
                words.next()?;
            }
            w if w.starts_with('-') => {}
            w => break vec![w.to_owned()],
        }
    };
    relative.iter().find_map(|rel| locate(project, dir, rel))
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The project file `rel` names when run in `dir`: `dir/rel` itself, else the one file whose
/// path ends with `rel`. An absolute path in the image (`/app/server/main.py`, the project
/// copied to `/app`) is matched by its longest end that some file has, if only one has it.
fn locate(project: &Project, dir: &str, rel: &str) -> Option<String> {
    let rel = rel.trim_start_matches("./");
    let absolute = rel.starts_with('/');
    let rel = rel.trim_start_matches('/');
    let joined = if absolute || dir.is_empty() {
        rel.to_owned()
    } else {
        format!("{dir}/{rel}")
    };
    if project.text(&joined).is_some() {
        return Some(joined);
    }
    let mut tail = rel;
    loop {
        let found: Vec<&str> = project
            .files()
            .map(|(p, _)| p)
            .filter(|p| *p == tail || p.ends_with(&format!("/{tail}")))
            .collect();
        match found.as_slice() {
            [only] => return Some((*only).to_owned()),
            [] if absolute => tail = tail.split_once('/')?.1,
            _ => return None,
        }
    }
}

/// The `uvicorn.run(...)` call of the file a `python …` command runs, if there is one.
pub(crate) fn find(project: &Project, dir: &str, segment: &[String]) -> Option<Run> {
    let file = entry_file(project, dir, segment)?;
    let module = Module::parse(project.text(&file)?)?;
    let imported_run = module
        .imports
        .iter()
        .any(|i| i.module == "uvicorn" && i.name.as_deref() == Some("run"));
    let mut calls = module
        .calls
        .iter()
        .filter(|c| c.name == "uvicorn.run" || (imported_run && c.name == "run"));
    let call = calls.next()?;
    let unknown = || {
        ["--host", "--port", "--forwarded-allow-ips"]
            .into_iter()
            .flat_map(|option| [option.to_owned(), UNKNOWN.to_owned()])
            .collect::<Vec<String>>()
    };
    // Two calls (`if DEBUG: … else: …`) leave which one runs to the code: nothing is known.
    if calls.next().is_some() {
        return Some(Run {
            file,
            line: call.place.line,
            args: unknown(),
        });
    }
    // `**config` may hold any keyword not given by name (one given twice is a TypeError).
    let mut args = if call.has_splat() {
        unknown()
    } else {
        Vec::new()
    };
    for (keyword, option) in [
        ("host", "--host"),
        ("port", "--port"),
        ("uds", "--uds"),
        ("fd", "--fd"),
        ("forwarded_allow_ips", "--forwarded-allow-ips"),
    ] {
        if let Some(value) = call.keyword(keyword) {
            let value = option_value(&module, value).unwrap_or_else(|| UNKNOWN.to_owned());
            args.extend([option.to_owned(), value]);
        }
    }
    // `proxy_headers` defaults to true; when it is not a literal `True`, no finding may rest
    // on it, as if it were off.
    if let Some(value) = call.keyword("proxy_headers") {
        if module.resolve(value).kind != ValueKind::Bool(true) {
            args.push("--no-proxy-headers".to_owned());
        }
    }
    Some(Run {
        file,
        line: call.place.line,
        args,
    })
}

/// What an argument stands for as an option value: a literal, an environment variable
/// (`os.getenv("PORT")` is `$PORT`, with a default `${PORT:-7860}`), through `int()`/`str()`
/// and module-level names assigned once; `None` when it cannot be known.
fn option_value(module: &Module, value: &Value) -> Option<String> {
    let value = module.resolve(value);
    match &value.kind {
        ValueKind::Str(s) if !s.contains('$') => Some(s.clone()),
        ValueKind::Int(i) => Some(i.to_string()),
        ValueKind::Call(name) => {
            let call = module
                .calls
                .iter()
                .find(|c| c.name == *name && c.place == value.place)?;
            match name.as_str() {
                "int" | "str" if call.args.len() == 1 && call.keywords.is_empty() => {
                    option_value(module, &call.args[0])
                }
                "os.getenv" | "getenv" | "os.environ.get" | "environ.get" => {
                    let variable = call.arg(0, "key")?.as_str()?;
                    let valid = !variable.is_empty()
                        && !variable.starts_with(|c: char| c.is_ascii_digit())
                        && variable
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !valid {
                        return None;
                    }
                    match call.arg(1, "default") {
                        None => Some(format!("${{{variable}}}")),
                        Some(default) => {
                            let default = option_value(module, default)?;
                            (!default.contains(['}', '$']))
                                .then(|| format!("${{{variable}:-{default}}}"))
                        }
                    }
                }
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_of(command: &[&str], files: &[(&str, &str)]) -> Option<Run> {
        let project = Project::from_files(files);
        let words: Vec<String> = command.iter().map(|w| (*w).to_owned()).collect();
        find(&project, "", &words)
    }

    #[test]
    fn the_file_a_python_command_runs() {
        let app = "import uvicorn\nuvicorn.run(app)\n";
        for (command, file) in [
            (&["python", "app.py"][..], "app.py"),
            (&["python3", "-u", "app.py"][..], "app.py"),
            (
                &["/usr/local/bin/python3.11", "-X", "utf8", "./app.py"][..],
                "app.py",
            ),
            (&["python", "-m", "app"][..], "app.py"),
            (&["python", "-m", "server.main"][..], "server/main.py"),
            (&["python", "-m", "server"][..], "server/__main__.py"),
            (&["python", "/app/server/main.py"][..], "server/main.py"),
        ] {
            let files = [
                ("app.py", app),
                ("server/main.py", app),
                ("server/__main__.py", app),
            ];
            let run = run_of(command, &files);
            assert_eq!(run.map(|r| r.file), Some(file.to_owned()), "{command:?}");
        }
        let files = [("app.py", app), ("a/main.py", app), ("b/main.py", app)];
        for command in [
            &["python", "-c", "import app"][..],
            &["python"][..],
            &["pythonista", "app.py"][..],
            &["python", "main.py"][..],
            &["python", "missing.py"][..],
        ] {
            assert_eq!(run_of(command, &files), None, "{command:?}");
        }
    }

    #[test]
    fn keyword_arguments_become_options() {
        let source = "\
import os
import uvicorn
from app.main import app

HOST = \"0.0.0.0\"

if __name__ == \"__main__\":
    uvicorn.run(
        app,
        host=HOST,
        port=int(os.environ.get(\"PORT\", 7860)),
        forwarded_allow_ips=os.getenv(\"TRUSTED\"),
        proxy_headers=False,
    )
";
        let run = run_of(&["python", "serve.py"], &[("serve.py", source)]).unwrap();
        assert_eq!(run.line, 8);
        assert_eq!(
            run.args,
            [
                "--host",
                "0.0.0.0",
                "--port",
                "${PORT:-7860}",
                "--forwarded-allow-ips",
                "${TRUSTED}",
                "--no-proxy-headers"
            ]
        );
    }

    #[test]
    fn what_cannot_be_known_is_unknown() {
        let source = "\
from uvicorn import run
from settings import settings

run(\"m:app\", host=settings.host, port=os.environ[\"PORT\"])
";
        let run = run_of(&["python", "main.py"], &[("main.py", source)]).unwrap();
        assert_eq!(run.args, ["--host", UNKNOWN, "--port", UNKNOWN]);
        let splat = "import uvicorn\nuvicorn.run(app, **options)\n";
        let run = run_of(&["python", "main.py"], &[("main.py", splat)]).unwrap();
        assert!(run.args.windows(2).any(|w| w == ["--host", UNKNOWN]));
        // Which of two calls runs is up to the code.
        let branches = "import uvicorn\nif DEBUG:\n    uvicorn.run(app, host=\"127.0.0.1\")\nelse:\n    uvicorn.run(app, host=\"0.0.0.0\", port=7860)\n";
        let run = run_of(&["python", "main.py"], &[("main.py", branches)]).unwrap();
        assert_eq!(run.line, 3);
        assert_eq!(
            run.args,
            [
                "--host",
                UNKNOWN,
                "--port",
                UNKNOWN,
                "--forwarded-allow-ips",
                UNKNOWN
            ]
        );
        // A `run` that is not uvicorn's is not a server start.
        let other = "from app import run\nrun(host=\"127.0.0.1\")\n";
        assert_eq!(run_of(&["python", "main.py"], &[("main.py", other)]), None);
    }
}
