//! Starlette's `CORSMiddleware`, configured with `app.add_middleware(CORSMiddleware, …)`,
//! `Middleware(CORSMiddleware, …)` or by wrapping the app (`CORSMiddleware(app, …)`). A rule
//! fires only on values written as literals (directly or through a module-level name assigned
//! once); a value computed at run time is never judged. Only the modules the Space serves count
//! (see [`super::served`]). The configurations are found here, once, by [`configs`].

pub(super) mod cors_credentials_any_origin;
pub(super) mod cors_inside_error_middleware;
pub(super) mod cors_methods_miss_routes;
pub(super) mod cors_origin_with_path;
pub(super) mod cors_origins_hardcoded;
pub(super) mod cors_regex_any_vercel_app;
pub(super) mod cors_wildcard_in_origin;

use regex::Regex;

use super::Facts;
use crate::check::python::{Call, Kind, Module, Value};

/// Origins no configured frontend is: a regex matching both admits any origin.
const FOREIGN: &[&str] = &["https://evil.example", "https://attacker.test"];
/// A Vercel deployment of someone else's project.
pub(super) const FOREIGN_VERCEL: &[&str] = &[
    "https://qzx-unrelated-9k2.vercel.app",
    "https://zz-other-project-git-main-someone.vercel.app",
];

/// One CORS configuration.
pub(super) struct Config<'a> {
    /// The served module that makes it.
    pub file: &'a str,
    pub module: &'a Module,
    pub call: &'a Call,
    /// The keywords are the middleware's (the call is CORSMiddleware itself or passes it).
    pub plain: bool,
    /// Added with add_middleware / Middleware(...): inside the error middleware.
    pub inner: bool,
}

impl<'a> Config<'a> {
    /// The keyword `name`, resolved through a module-level name assigned once.
    pub(super) fn get(&self, name: &str) -> Option<&'a Value> {
        self.call.keyword(name).map(|v| self.module.resolve(v))
    }

    /// The entries of `allow_origins`, when it is a list (or tuple) written in the code.
    pub(super) fn origins(&self) -> Vec<&'a Value> {
        match self.get("allow_origins").map(|v| &v.kind) {
            Some(Kind::Seq(items)) => items.iter().collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `allow_credentials=True` is written.
    pub(super) fn credentials(&self) -> bool {
        matches!(
            self.get("allow_credentials").map(|v| &v.kind),
            Some(Kind::Bool(true))
        )
    }

    /// What the module adds to the list named `name`: the arguments of `name.append(x)`,
    /// `name.extend(xs)` and the second of `name.insert(i, x)`, in order.
    pub(super) fn additions(&self, name: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.module.calls.iter().filter_map(move |call| {
            let (receiver, method) = call.name.rsplit_once('.')?;
            if receiver != name {
                return None;
            }
            match method {
                "append" | "extend" => call.args.first(),
                "insert" => call.args.get(1),
                _ => None,
            }
        })
    }
}

/// Every CORS configuration of the modules the Space serves, in file and call order.
pub(super) fn configs<'a>(facts: &'a Facts<'_>) -> impl Iterator<Item = Config<'a>> {
    facts
        .python
        .iter()
        .filter(|(file, _)| facts.served.includes(file))
        .flat_map(|(file, module)| {
            module
                .calls
                .iter()
                .filter_map(move |call| config(file, module, call))
        })
}

/// The CORS configuration `call` makes, if it makes one.
fn config<'a>(file: &'a str, module: &'a Module, call: &'a Call) -> Option<Config<'a>> {
    let is_cors = |name: &str| name == "CORSMiddleware" || name.ends_with(".CORSMiddleware");
    let first_is_cors =
        matches!(call.args.first().map(|v| &v.kind), Some(Kind::Name(n)) if is_cors(n));
    let method = call.method();
    if (method == "add_middleware" || method == "Middleware") && first_is_cors {
        return Some(Config {
            file,
            module,
            call,
            plain: true,
            inner: true,
        });
    }
    if method.ends_with("CORSMiddleware") && !call.decorator {
        return Some(Config {
            file,
            module,
            call,
            plain: is_cors(&call.name),
            inner: false,
        });
    }
    None
}

/// What an `allow_origin_regex` admits beyond the project's own origins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// Any origin at all.
    Any,
    /// Every Vercel user's deployments (but not any origin).
    AnyVercel,
}

/// The `allow_origin_regex` of `config`, when it is a literal: where it is written, the
/// pattern, and how far it reaches (`None` when it admits neither kind of foreign origin, or
/// does not compile).
pub(super) fn origin_regex<'a>(config: &Config<'a>) -> Option<(&'a Value, &'a str, Reach)> {
    let value = config.get("allow_origin_regex")?;
    let pattern = value.as_str()?;
    let regex = Regex::new(&format!("^(?:{pattern})$")).ok()?;
    let admits_all = |probes: &[&str]| probes.iter().all(|p| regex.is_match(p));
    let reach = if admits_all(FOREIGN) {
        Reach::Any
    } else if admits_all(FOREIGN_VERCEL) {
        Reach::AnyVercel
    } else {
        return None;
    };
    Some((value, pattern, reach))
}

#[cfg(test)]
mod tests {
    fn found(files: &[(&str, &str)]) -> Vec<(&'static str, usize)> {
        super::super::found_by("cors", files)
    }

    fn ids(src: &str) -> Vec<(&'static str, usize)> {
        found(&[("app/main.py", src)])
    }

    #[test]
    fn literal_origins_are_judged() {
        let found = ids("from fastapi.middleware.cors import CORSMiddleware\n\
             origins = ['https://*.vercel.app', 'https://a.example.com/', '*']\n\
             app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=True)\n\
             @app.post('/x')\ndef x(): ...\n");
        assert_eq!(
            found,
            vec![
                ("SG221", 2),
                ("SG201", 2),
                ("SG204", 2),
                ("SG202", 2),
                ("SG205", 3),
                ("SG206", 3)
            ]
        );
    }

    #[test]
    fn the_generated_shape_and_exact_literal_origins_pass_the_error_rules() {
        let found = ids(
            "app = JsonCORSMiddleware(api, allow_origins=origins, allow_origin_regex=r, \
             allow_credentials=c, allow_methods=ALLOWED_METHODS)\n\
             app2 = CORSMiddleware(api, allow_origins=['https://a.vercel.app', 'http://localhost:3000'], \
             allow_origin_regex=r'https://myproj(-[a-z0-9-]+)?\\.vercel\\.app', allow_methods=['*'])\n\
             @router.delete('/x')\ndef x(): ...\n",
        );
        assert_eq!(found, vec![("SG221", 2)]);
    }

    #[test]
    fn regexes_are_tried_against_foreign_origins() {
        let found = ids(
            "CORSMiddleware(api, allow_origin_regex='.*', allow_credentials=True)\n\
             CORSMiddleware(api, allow_origin_regex=r'https://[a-z0-9-]+\\.vercel\\.app')\n\
             CORSMiddleware(api, allow_origin_regex='https://.*', allow_credentials=False)\n\
             CORSMiddleware(api, allow_origin_regex='(?<=x)bad')\n",
        );
        assert_eq!(found, vec![("SG202", 1), ("SG203", 2)]);
    }

    #[test]
    fn origins_written_in_the_code_are_hardcoded() {
        let found = ids("import os\n\
             ORIGINS = ['https://a.example.com', 'http://localhost:3000']\n\
             FRONT = 'https://b.example.com'\n\
             CORSMiddleware(api, allow_origins=ORIGINS, allow_methods=['*'])\n\
             CORSMiddleware(api, allow_origins=[FRONT, 'http://localhost:5173'], allow_methods=['*'])\n\
             CORSMiddleware(api, allow_origins='*', allow_methods=['*'])\n");
        assert_eq!(found, vec![("SG221", 2), ("SG221", 5), ("SG221", 6)]);
    }

    #[test]
    fn origins_written_in_tests_are_not_hardcoded() {
        let code =
            "CORSMiddleware(api, allow_origins=['http://testserver'], allow_methods=['*'])\n";
        let found = found(&[
            ("tests/test_cors.py", code),
            ("backend/tests/helpers.py", code),
            ("app/conftest.py", code),
        ]);
        assert_eq!(found, vec![]);
    }

    #[test]
    fn origins_read_from_configuration_are_not_hardcoded() {
        let found = ids("import os\n\
             FRONT = os.getenv('FRONTEND_URL', 'http://localhost:3000')\n\
             extra = ['https://a.example.com']\n\
             extra.extend(os.environ.get('MORE', '').split(','))\n\
             CORSMiddleware(api, allow_origins=[FRONT, 'http://localhost:3000'], allow_methods=['*'])\n\
             CORSMiddleware(api, allow_origins=settings.cors_origins, allow_methods=['*'])\n\
             CORSMiddleware(api, allow_origins=extra, allow_methods=['*'])\n\
             CORSMiddleware(api, allow_origins=[], allow_methods=['*'])\n\
             CORSMiddleware(api, allow_origins=os.environ['ORIGINS'].split(','), allow_methods=['*'])\n");
        assert_eq!(found, vec![]);
    }

    #[test]
    fn a_wildcard_settings_default_with_credentials_is_reported() {
        let config = "from pydantic_settings import BaseSettings\n\
            from pydantic import Field\n\
            class Settings(BaseSettings):\n    cors_origins: str = Field(default='*')\n    \
            safe_origins: str = 'https://app.example.com'\n\
            settings = Settings()\n";
        let main = "from app.config import settings\n\
            CORSMiddleware(a, allow_origins=settings.cors_origins.split(','), allow_credentials=True)\n\
            CORSMiddleware(a, allow_origins=settings.cors_origins.split(','), allow_credentials=False)\n\
            CORSMiddleware(a, allow_origins=settings.safe_origins.split(','), allow_credentials=True)\n";
        let found = found(&[("app/config.py", config), ("app/main.py", main)]);
        assert_eq!(found, vec![("SG202", 2)]);
    }

    #[test]
    fn comprehensions_and_environment_defaults_are_followed() {
        let config =
            "class Settings(BaseSettings):\n    cors_origins: str = '*'\nsettings = Settings()\n";
        let main = "import os\nfrom app.config import settings\n\
            ORIGINS = [o.strip() for o in settings.cors_origins.split(',')]\n\
            RAW = os.getenv('CORS_ORIGINS', '*')\n\
            FRONT = os.environ.get('FRONTEND_URL', 'http://localhost:3000')\n\
            CORSMiddleware(a, allow_origins=ORIGINS, allow_credentials=True)\n\
            CORSMiddleware(a, allow_origins=RAW.split(','), allow_credentials=True)\n\
            CORSMiddleware(a, allow_origins=[FRONT], allow_credentials=True)\n\
            CORSMiddleware(a, allow_origins=[os.getenv('WEB', '*')], allow_credentials=True)\n";
        let found = found(&[("app/config.py", config), ("app/main.py", main)]);
        assert_eq!(found, vec![("SG202", 6), ("SG202", 7), ("SG202", 9)]);
    }

    #[test]
    fn a_wildcard_appended_to_the_origins_with_credentials_is_reported() {
        let found = ids("origins = ['https://app.example.com']\n\
             if DEBUG:\n    origins.append('*')\n\
             more = ['https://app.example.com']\n\
             more.extend(['https://b.example.com'])\n\
             CORSMiddleware(a, allow_origins=origins, allow_credentials=True, allow_methods=['*'])\n\
             CORSMiddleware(a, allow_origins=more, allow_credentials=True, allow_methods=['*'])\n");
        assert_eq!(found, vec![("SG221", 1), ("SG202", 3), ("SG221", 4)]);
    }

    #[test]
    fn only_served_modules_count() {
        let open = "from fastapi.middleware.cors import CORSMiddleware\n\
             app.add_middleware(CORSMiddleware, allow_origins=['*'], allow_credentials=True)\n";
        let docker = "FROM python:3.12\nCOPY . .\nCMD uvicorn main:app\n";
        let rules_found = |files: &[(&str, &str)]| {
            found(files)
                .into_iter()
                .map(|(id, _)| id)
                .collect::<Vec<_>>()
        };
        let app = "from fastapi import FastAPI\napp = FastAPI()\n";
        assert_eq!(
            rules_found(&[
                ("Dockerfile", docker),
                ("main.py", app),
                ("old_main.py", open)
            ]),
            Vec::<&str>::new()
        );
        assert!(rules_found(&[("Dockerfile", docker), ("main.py", open)]).contains(&"SG202"));
    }
}
