//! The Spaces YAML header of a README.md (the front matter between two `---` lines): the `sdk`
//! and the `app_port` a Docker Space serves on. A README without a header, or with one that is
//! not a YAML mapping, has no header; nothing here fails.

use yaml_rust2::{Yaml, YamlLoader};

/// The port Hugging Face routes to when `app_port` is absent.
pub(crate) const DEFAULT_APP_PORT: u16 = 7860;

/// What the header says, as far as the Dockerfile rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SpaceHeader {
    /// `sdk`, if given.
    pub sdk: Option<String>,
    /// `app_port`: `Ok(port)`, the default when absent, `Err(())` when not a valid port.
    pub app_port: Result<u16, ()>,
}

impl SpaceHeader {
    /// Whether the header says this is anything but a Docker Space.
    pub(crate) fn other_sdk(&self) -> bool {
        self.sdk.as_deref().is_some_and(|s| s != "docker")
    }
}

/// The header of `readme`, if it has one.
pub(crate) fn read(readme: &str) -> Option<SpaceHeader> {
    let text = readme.strip_prefix('\u{feff}').unwrap_or(readme);
    let mut lines = text.lines();
    if lines.next()?.trim_end() != "---" {
        return None;
    }
    let body: Vec<&str> = lines.take_while(|l| l.trim_end() != "---").collect();
    let docs = YamlLoader::load_from_str(&body.join("\n")).ok()?;
    let doc = docs.into_iter().next().unwrap_or(Yaml::Null);
    let Yaml::Hash(map) = doc else {
        return None;
    };
    let get = |key: &str| map.get(&Yaml::String(key.to_owned()));
    let sdk = get("sdk").and_then(Yaml::as_str).map(str::to_owned);
    let app_port = match get("app_port") {
        None | Some(Yaml::Null) => Ok(DEFAULT_APP_PORT),
        Some(Yaml::Integer(n)) => u16::try_from(*n).map_err(|_| ()),
        Some(Yaml::String(s)) => s.trim().parse().map_err(|_| ()),
        Some(_) => Err(()),
    };
    Some(SpaceHeader { sdk, app_port })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sdk_and_port() {
        let h = read("---\ntitle: x\nsdk: docker\napp_port: 8000\n---\n# x\n").unwrap();
        assert_eq!(h.sdk.as_deref(), Some("docker"));
        assert_eq!(h.app_port, Ok(8000));
        let h = read("---\r\nsdk: docker\r\n---\r\n").unwrap();
        assert_eq!(h.app_port, Ok(DEFAULT_APP_PORT));
        assert_eq!(
            read("---\napp_port: high\n---\n").unwrap().app_port,
            Err(())
        );
        assert!(read("---\nsdk: gradio\n---\n").unwrap().other_sdk());
    }

    #[test]
    fn no_header() {
        assert_eq!(read("# Title\n"), None);
        assert_eq!(read("---\n- a list\n---\n"), None);
        assert_eq!(read("---\n: : :\n  - [\n---\n"), None);
        assert_eq!(read(""), None);
    }
}
