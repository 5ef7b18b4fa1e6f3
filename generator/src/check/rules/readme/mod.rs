//! The Spaces header of `README.md` and what the README tells readers to do. The Hub rejects a
//! push whose header breaks its rules ("your push was rejected during YAML metadata
//! verification"), and a Docker Space without `sdk: docker` never runs the Dockerfile. The
//! header is parsed once, in [`Facts`] (`facts.readme`), for every rule of the family.

pub(super) mod readme_app_port;
pub(super) mod readme_colors;
pub(super) mod readme_header_invalid;
pub(super) mod readme_header_missing;
pub(super) mod readme_huggingface_cli;
pub(super) mod readme_no_endpoints;
pub(super) mod readme_persistent_data;
pub(super) mod readme_port_contradicts_app_port;
pub(super) mod readme_sdk;
pub(super) mod readme_short_description;

use yaml_rust2::Yaml;

use super::Facts;
use crate::check::readme::{Fields, Header, Readme};

/// Whether the folder looks like a Space backend: it has a Dockerfile.
pub(super) fn is_space(facts: &Facts<'_>) -> bool {
    facts.project.dockerfiles().next().is_some()
}

/// The keys of the README's header, when it has one that parses.
pub(super) fn fields<'f>(facts: &'f Facts<'_>) -> Option<&'f Fields> {
    match facts.readme.as_ref()?.header {
        Header::Parsed(ref fields) => Some(fields),
        Header::Missing | Header::Invalid { .. } => None,
    }
}

/// The README, when the rules about what its body offers a user of the Space apply: the folder
/// is a Space backend, and the header names no SDK but `docker`.
pub(super) fn docker_space_readme<'f, 'a>(facts: &'f Facts<'a>) -> Option<&'f Readme<'a>> {
    let readme = facts.readme.as_ref()?;
    (is_space(facts) && readme.space().is_none_or(|h| !h.other_sdk())).then_some(readme)
}

/// A header value as a finding shows it.
pub(super) fn shown(value: &Yaml) -> String {
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
    fn found(files: &[(&str, &str)]) -> Vec<(&'static str, usize)> {
        super::super::found_by("readme", files)
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
                ("SG305", 3),
                ("SG303", 5),
                ("SG304", 6),
                ("SG306", 7),
                ("SG308", 8),
                ("SG307", 12),
            ]
        );
    }

    #[test]
    fn a_folder_without_a_dockerfile_is_not_held_to_space_rules() {
        assert_eq!(found(&[("README.md", "# Library\n")]), vec![]);
        assert_eq!(found(&[("Dockerfile", "FROM x\n")]), vec![("SG301", 0)]);
    }

    const HEADER: &str = "---\ntitle: Demo API\nsdk: docker\napp_port: 7860\n---\n";
    const APP: &str = "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get(\"/\")\ndef root():\n    return {}\n\n@app.get(\"/health\")\ndef health():\n    return {}\n\n@app.post(\"/predict\")\ndef predict():\n    return {}\n\n@app.get(\"/items/{item_id}\")\ndef item(item_id: int):\n    return {}\n";

    fn with_readme(body: &str) -> Vec<(&'static str, usize)> {
        let readme = format!("{HEADER}{body}");
        found(&[
            ("README.md", &readme),
            ("Dockerfile", "FROM python:3.12\n"),
            ("app.py", APP),
        ])
    }

    #[test]
    fn a_readme_naming_no_endpoint_is_found_at_its_first_line() {
        assert_eq!(
            with_readme("\n# Demo\n\nA model served with FastAPI. See /docs and /health.\n"),
            vec![("SG309", 7)]
        );
        assert_eq!(with_readme(""), vec![("SG309", 5)]);
    }

    #[test]
    fn any_way_of_naming_an_endpoint_documents_it() {
        for body in [
            "| POST | `/predict` | scores a text |\n",
            "curl -X POST https://me-demo.hf.space/api/v1/predict -d '{}'\n",
            "GET /items/<id> returns one item\n",
            "Fetch `/items/:item_id`, e.g. /items/42.\n",
            "Call `predict` with a text.\n",
            "The predict endpoint scores a text.\n",
        ] {
            assert_eq!(with_readme(body), vec![], "{body}");
        }
    }

    #[test]
    fn framework_health_and_parameter_only_routes_are_not_the_api() {
        let app = "from fastapi import FastAPI\napp = FastAPI()\n@app.get(\"/\")\ndef a(): ...\n@app.get(\"/api/healthz\")\ndef b(): ...\n@app.get(\"/{path:path}\")\ndef c(): ...\n@app.get(\"/debug\", include_in_schema=False)\ndef d(): ...\n";
        let files = |readme: &'static str| {
            found(&[
                ("README.md", readme),
                ("Dockerfile", "FROM x\n"),
                ("app.py", app),
            ])
        };
        assert_eq!(files("---\nsdk: docker\n---\nNothing.\n"), vec![]);
        // The endpoints of a test file are not the app's.
        assert_eq!(
            found(&[
                ("README.md", "---\nsdk: docker\n---\nNothing.\n"),
                ("Dockerfile", "FROM x\n"),
                ("tests/test_api.py", APP),
            ]),
            vec![]
        );
    }

    #[test]
    fn pages_are_not_the_api_and_a_linked_api_document_documents_it() {
        let app = "from fastapi import FastAPI\nfrom fastapi.responses import HTMLResponse, RedirectResponse\napp = FastAPI()\n@app.get(\"/dashboard\", response_class=HTMLResponse)\ndef a(): ...\n@app.get(\"/login\", response_class=RedirectResponse)\ndef b(): ...\n";
        let readme = "---\nsdk: docker\n---\nA dashboard.\n";
        assert_eq!(
            found(&[
                ("README.md", readme),
                ("Dockerfile", "FROM x\n"),
                ("app.py", app)
            ]),
            vec![]
        );
        assert_eq!(
            with_readme("Every endpoint is described in [the API guide](docs/API.md).\n"),
            vec![]
        );
        assert_eq!(
            with_readme("See [the changelog](docs/CHANGES.md).\n"),
            vec![("SG309", 6)]
        );
    }

    #[test]
    fn routes_that_cannot_be_known_give_no_finding() {
        let app = "from fastapi import FastAPI\napp = FastAPI()\nP = compute()\n@app.post(\"/predict\")\ndef a(): ...\n@app.get(P)\ndef b(): ...\n";
        let readme = "---\nsdk: docker\n---\nNothing.\n";
        assert_eq!(
            found(&[
                ("README.md", readme),
                ("Dockerfile", "FROM x\n"),
                ("app.py", app)
            ]),
            vec![]
        );
        // Nor a Space of another SDK, nor a folder without a Dockerfile.
        let gradio = "---\nsdk: gradio\n---\nNothing.\n";
        assert_eq!(
            found(&[
                ("README.md", gradio),
                ("Dockerfile", "FROM x\n"),
                ("app.py", APP)
            ]),
            vec![("SG303", 2)]
        );
        assert_eq!(
            found(&[("README.md", "Nothing.\n"), ("app.py", APP)]),
            vec![]
        );
    }

    #[test]
    fn a_router_prefix_is_part_of_the_path() {
        let api = "from fastapi import APIRouter\nrouter = APIRouter(prefix=\"/tasks\")\n@router.get(\"/\")\ndef all(): ...\n@router.get(\"/{task_id}\")\ndef one(task_id: int): ...\n";
        let files = |readme: &'static str| {
            found(&[
                ("README.md", readme),
                ("Dockerfile", "FROM x\n"),
                ("api.py", api),
            ])
        };
        assert_eq!(
            files("---\nsdk: docker\n---\n- GET /api/tasks/{id}\n"),
            vec![]
        );
        assert_eq!(files("---\nsdk: docker\n---\n- GET /api/tasks\n"), vec![]);
        assert_eq!(
            files("---\nsdk: docker\n---\n- GET /api/notes\n"),
            vec![("SG309", 4)]
        );
        let named = "from fastapi import APIRouter\nPREFIX = \"/tasks\"\nrouter = APIRouter(prefix=PREFIX)\n@router.get(\"\")\ndef all(): ...\n";
        assert_eq!(
            found(&[
                ("README.md", "---\nsdk: docker\n---\n- GET /notes\n"),
                ("Dockerfile", "FROM x\n"),
                ("api.py", named),
            ]),
            vec![("SG309", 4)]
        );
        // A prefix that is not a literal leaves the endpoints unknown.
        let computed = named.replace("PREFIX = \"/tasks\"", "PREFIX = os.environ[\"PREFIX\"]");
        assert_eq!(
            found(&[
                ("README.md", "---\nsdk: docker\n---\n- GET /notes\n"),
                ("Dockerfile", "FROM x\n"),
                ("api.py", &computed),
            ]),
            vec![]
        );
    }

    fn port_findings(readme: &str) -> Vec<(&'static str, usize)> {
        let docs = "The predict endpoint scores a text.\n";
        let readme = format!("{readme}{docs}");
        found(&[
            ("README.md", &readme),
            (
                "Dockerfile",
                "FROM python:3.12\nCMD uvicorn app:app --port ${PORT:-7860}\n",
            ),
            ("app.py", APP),
        ])
    }

    #[test]
    fn a_docker_run_publishing_another_port_than_app_port_is_found() {
        let build = "```sh\ndocker build -t demo .\ndocker run --rm \\\n  -p 8000:8000 demo\n```\n";
        assert_eq!(
            port_findings(&format!("{HEADER}{build}")),
            vec![("SG310", 8)]
        );
        let pulled = "Run `docker run -it -p 8000:8000 registry.hf.space/me-demo:latest`.\n";
        assert_eq!(
            port_findings(&format!("{HEADER}{pulled}")),
            vec![("SG310", 6)]
        );
        // Without a header the Space serves on 7860.
        assert_eq!(
            port_findings("# Demo\n\n    docker run -p 8080:8080 demo-api\n"),
            vec![("SG301", 1), ("SG310", 3)]
        );
    }

    #[test]
    fn ports_that_agree_or_are_not_the_space_image_are_not_contradictions() {
        for run in [
            "docker build -t demo .\ndocker run -p 8000:7860 demo\n",
            "docker build -t demo .\ndocker run -p 7860:7860 demo\n",
            "docker build -t demo .\ndocker run -p 8000:8000 -e PORT=8000 demo\n",
            "docker build -t demo .\ndocker run -p 8000:8000 --env-file .env demo\n",
            "docker build -t demo .\ndocker run -p 8000:8000 demo uvicorn app:app --port 8000\n",
            "docker build -t web ./frontend\ndocker run -p 3000:3000 web\n",
            "docker build -f Dockerfile.dev -t dev .\ndocker run -p 8000:8000 dev\n",
            "docker build -t demo .\ndocker run -p 3000:3000 my-frontend\n",
            "docker run -d -p 5432:5432 postgres:16\ndocker run -p 6333:6333 qdrant/qdrant\n",
            "Locally: `uvicorn app:app --port 8000`, then open http://localhost:8000/docs.\n",
        ] {
            assert_eq!(port_findings(&format!("{HEADER}{run}")), vec![], "{run}");
        }
        let port_8000 = "---\nsdk: docker\napp_port: 8000\n---\ndocker run -p 8000:8000 demo\n";
        assert_eq!(port_findings(port_8000), vec![]);
    }
}
