use super::docker_space_readme;
use crate::check::finding::rule;
use crate::check::readme::{Header, Readme, DEFAULT_APP_PORT, FILE};
use crate::check::readme_body;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a `docker run -p HOST:CONTAINER` line of README.md whose CONTAINER port is not
    /// the Space's `app_port` (7860 when the header has none).
    ///
    /// Reported only for a `docker run` of the Space's own image: one the README builds from
    /// its own folder with its own Dockerfile (`docker build -t NAME .`, not
    /// `-f Dockerfile.dev`), one from `registry.hf.space/…`, or, when the README builds none
    /// from its folder, an image it does not build elsewhere and that is neither a well-known
    /// service (postgres, redis, qdrant, …) nor a frontend. Not reported when the command sets
    /// `PORT` (`-e PORT=8000`), passes an env file while the Dockerfile reads `$PORT`, or
    /// replaces the image's command. A port for running the app outside the container
    /// (`uvicorn main:app --port 8000`, `python main.py`, `http://localhost:8000` after a local
    /// run) is no contradiction and is not reported.
    ///
    /// ## Why it breaks a Space
    /// A `docker run -p HOST:CONTAINER` line publishes the container's port CONTAINER. A
    /// Space's server answers on `app_port` (7860 when the header has none), so a README that
    /// runs the Space's image with `-p 8000:8000` sends users to a port nothing listens on: the
    /// browser shows a connection reset. (When the Dockerfile starts the server on yet another
    /// port, SG103 reports that as well.)
    ///
    /// ## Example
    /// ```sh
    /// docker build -t demo .
    /// docker run -p 8000:8000 demo
    /// ```
    ///
    /// ## Fix
    /// Publish the port the image listens on, or map it to the host port you want:
    /// ```sh
    /// docker run -p 7860:7860 demo
    /// docker run -p 8000:7860 demo   # reach it on the host's 8000
    /// ```
    ///
    /// ## References
    /// - Docker, `docker container run --publish`: <https://docs.docker.com/reference/cli/docker/container/run/>
    /// - Hugging Face, Docker Spaces (`app_port`): <https://huggingface.co/docs/hub/spaces-sdks-docker>
    /// - Hugging Face, running Spaces with Docker: <https://huggingface.co/docs/hub/spaces-run-with-docker>
    pub(crate) static RULE = "SG310", "readme-port-contradicts-app-port", Warning;
    why: "the README tells users to reach the image on a port it does not serve: `app_port` says the server listens elsewhere";
    fix: "publish the port the image listens on (`docker run -p 7860:7860 …`, or `-p 8000:7860` to use 8000 on the host)";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    if let Some(readme) = docker_space_readme(facts) {
        port(facts.project, readme, findings);
    }
}

/// Images of services a README runs beside the app, never the app itself.
const SERVICES: &[&str] = &[
    "postgres",
    "redis",
    "mongo",
    "mysql",
    "mariadb",
    "qdrant",
    "chromadb",
    "ollama",
    "neo4j",
    "rabbitmq",
    "elasticsearch",
    "opensearch",
    "minio",
    "nginx",
    "memcached",
    "milvus",
    "weaviate",
    "localstack",
    "adminer",
    "pgadmin",
    "mongo-express",
    "selenium",
    "traefik",
    "caddy",
    "grafana",
    "prometheus",
    "jaeger",
    "kafka",
    "zookeeper",
    "vault",
    "mailhog",
];

/// Whether `image` is the Space's own: built from the README's folder (`docker build -t NAME .`),
/// pulled from the Space registry, or (when the README builds nothing there) neither built
/// elsewhere nor a well-known service or a frontend.
fn own_image(image: &str, built: &[(String, bool)]) -> bool {
    if image.starts_with("registry.hf.space/") || built.iter().any(|(b, here)| b == image && *here)
    {
        return true;
    }
    let name = image
        .rsplit('/')
        .next()
        .unwrap_or(image)
        .to_ascii_lowercase();
    !built.iter().any(|(b, here)| *here || b == image)
        && !image.contains('/')
        && !SERVICES.iter().any(|s| name.contains(s))
        && !["frontend", "client"].iter().any(|s| name.contains(s))
}

/// SG310: a `docker run` of the Space's image publishing a port other than `app_port`.
fn port(project: &crate::check::Project, readme: &Readme<'_>, findings: &mut Vec<Finding>) {
    let app_port = match readme.header {
        Header::Missing => DEFAULT_APP_PORT,
        Header::Invalid { .. } => return,
        Header::Parsed(_) => match readme.space().map(|h| h.app_port) {
            Some(Ok(port)) => port,
            _ => return,
        },
    };
    let reads_port = project
        .dockerfiles()
        .any(|(_, t)| t.contains("$PORT") || t.contains("${PORT"));
    let body = readme_body::body(readme.text);
    let built = body.built_images();
    for run in body.docker_runs() {
        if run.sets_port || run.overrides_command || (run.env_file && reads_port) {
            continue;
        }
        if !own_image(&run.image, &built) || run.published.iter().any(|(p, _)| *p == app_port) {
            continue;
        }
        let Some((port, mapping)) = run.published.first() else {
            continue;
        };
        findings.push(Finding::new(
            &RULE,
            FILE,
            run.line,
            format!(
                "`docker run -p {mapping}` publishes the container's port {port}, not app_port {app_port}, the port the Space's server answers on"
            ),
        ));
    }
}
