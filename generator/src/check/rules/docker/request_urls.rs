//! The proof behind SG111: code that turns the request's scheme into a URL the browser sees.
//! Behind the Space's proxy, uvicorn without `--forwarded-allow-ips` takes every request for
//! `http`; that matters only where the app builds an absolute URL from the request:
//! `request.url_for(…)`, `request.base_url`, `request.url`, FastAPI's redirect from a path
//! without its trailing slash (routes declared with one, unless `redirect_slashes=False`), and
//! the redirect `StaticFiles(html=True)` sends for a folder. An app that does none of these
//! answers the same with or without the proxy's headers.

use super::super::super::python::{Kind, Module};

/// Where the code first builds a URL from the request: (file, line, what).
pub(super) fn first(modules: &[(&str, &Module)]) -> Option<(String, usize, String)> {
    let no_redirects = modules.iter().any(|(_, m)| {
        m.calls.iter().any(|c| {
            matches!(c.method(), "FastAPI" | "APIRouter")
                && c.keyword("redirect_slashes")
                    .is_some_and(|v| v.kind == Kind::Bool(false))
        })
    });
    let mut found: Vec<(String, usize, String)> = Vec::new();
    for (file, module) in modules {
        for call in &module.calls {
            if call.method() == "url_for" {
                found.push(((*file).to_owned(), call.place.line, "calls url_for".into()));
            }
            if call.method() == "StaticFiles"
                && call
                    .keyword("html")
                    .is_some_and(|v| v.kind == Kind::Bool(true))
            {
                found.push((
                    (*file).to_owned(),
                    call.place.line,
                    "serves StaticFiles(html=True), which redirects folders to an absolute URL"
                        .into(),
                ));
            }
        }
        for place in &module.request_urls {
            found.push((
                (*file).to_owned(),
                place.line,
                "reads the request's absolute URL".into(),
            ));
        }
        if !no_redirects {
            for route in module.routes() {
                if let Some(path) = route
                    .path
                    .as_deref()
                    .filter(|p| p.len() > 1 && p.ends_with('/'))
                {
                    found.push((
                        (*file).to_owned(),
                        route.place.line,
                        format!("declares {path}, so FastAPI redirects its path without the slash"),
                    ));
                }
            }
        }
    }
    found.sort();
    found.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_of(src: &str) -> Option<usize> {
        let module = Module::parse(src).expect("valid Python");
        first(&[("main.py", &module)]).map(|(_, line, _)| line)
    }

    #[test]
    fn urls_built_from_the_request_are_found() {
        assert_eq!(
            first_of("app = FastAPI()\n@app.get('/items')\ndef f(): ...\n"),
            None
        );
        assert_eq!(
            first_of("@app.get('/x')\ndef f(request):\n    return request.url_for('f')\n"),
            Some(3)
        );
        assert_eq!(
            first_of("@app.get('/x')\ndef f(request: Request):\n    return {'self': str(request.base_url)}\n"),
            Some(3)
        );
        assert_eq!(first_of("@app.get('/items/')\ndef f(): ...\n"), Some(1));
        assert_eq!(
            first_of("app = FastAPI(redirect_slashes=False)\n@app.get('/items/')\ndef f(): ...\n"),
            None
        );
        assert_eq!(
            first_of("app.mount('/', StaticFiles(directory='web', html=True))\n"),
            Some(1)
        );
        assert_eq!(
            first_of("app.mount('/s', StaticFiles(directory='web'))\n"),
            None
        );
        assert_eq!(first_of("x = response.url\n"), None);
    }
}
