use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{server, Context};
use crate::check::dockerfile::Stage;
use crate::check::finding::rule;
use crate::check::ignore_file::clean;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a `RUN` after `USER <non-root>` that creates a file or folder (`mkdir`,
    /// `touch`) directly inside a folder the same Dockerfile created as root: a `WORKDIR` or
    /// `mkdir` before the `USER`, or a `COPY`/`ADD` without `--chown`.
    ///
    /// ## Why it breaks a Space
    /// Only the owner (root) may write in that folder, so the build stops with
    /// 'Permission denied'.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.12
    /// RUN useradd -m -u 1000 user
    /// WORKDIR /app
    /// USER user
    /// RUN mkdir data
    /// ```
    ///
    /// ## Fix
    /// Create the folder before switching user and give it away in the same step, copy with
    /// `--chown=user`, or set the `WORKDIR` after `USER` (BuildKit then creates it for that
    /// user):
    /// ```dockerfile
    /// RUN mkdir -p /app/data && chown user:user /app /app/data
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Docker Spaces, Permissions: <https://huggingface.co/docs/hub/spaces-sdks-docker>
    /// - Dockerfile reference, `WORKDIR`: <https://docs.docker.com/reference/dockerfile/#workdir>
    pub(crate) static RULE = "SG102", "docker-root-owned-write", Error;
    why: "after USER, the build writes into a folder root created, so the build fails with 'Permission denied'";
    fix: "create the folder as root and chown it to the user first, or create it after USER in a folder the user owns";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for cx in &facts.dockerfiles {
        root_owned_writes(cx, &cx.chain(), &cx.env, findings);
    }
}

/// Who owns the folders the build created.
#[derive(Default)]
struct Owners {
    /// Root-owned folders, with whether a `COPY --chown` may have put user-owned entries in them.
    root: BTreeMap<String, bool>,
    user: BTreeSet<String>,
}

fn absolute(path: &str, workdir: &str) -> String {
    if path.starts_with('/') {
        format!("/{}", clean(path))
    } else {
        format!("/{}", clean(&format!("{workdir}/{path}")))
    }
}

fn parent(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".to_owned(),
        Some((p, _)) => p.to_owned(),
    }
}

fn root_owned_writes(
    cx: &Context<'_>,
    chain: &[Stage<'_>],
    env: &HashMap<String, String>,
    findings: &mut Vec<Finding>,
) {
    let mut owners = Owners::default();
    let mut root = true;
    let mut workdir = Some("/".to_owned());
    for stage in chain.iter().rev() {
        for i in stage.body {
            match i.keyword.as_str() {
                "USER" => {
                    let text = i.text();
                    let name = text.split(':').next().unwrap_or_default().trim();
                    root = name == "root" || name == "0";
                }
                "WORKDIR" => {
                    let Some(path) = server::expand(i.text().trim(), env) else {
                        workdir = None;
                        continue;
                    };
                    let path = absolute(&path, workdir.as_deref().unwrap_or("/"));
                    if !owners.root.contains_key(&path) && !owners.user.contains(&path) {
                        if root {
                            owners.root.insert(path.clone(), false);
                        } else {
                            owners.user.insert(path.clone());
                        }
                    }
                    workdir = Some(path);
                }
                "COPY" | "ADD" => {
                    let (Some(wd), Some(words)) = (workdir.as_deref(), i.words()) else {
                        continue;
                    };
                    let Some(dest) = words.last() else { continue };
                    let Some(dest) = server::expand(dest, env) else {
                        continue;
                    };
                    let dest = absolute(&dest, wd);
                    let chowned = i.flag("chown").is_some_and(|c| {
                        let c = c.split(':').next().unwrap_or_default();
                        c != "root" && c != "0"
                    });
                    if let Some(copied) = owners.root.get_mut(&dest) {
                        *copied |= chowned;
                    } else if !owners.user.contains(&dest) && words.len() > 1 {
                        if chowned {
                            owners.user.insert(dest);
                        } else {
                            owners.root.insert(dest, false);
                        }
                    }
                }
                "RUN" => {
                    let Some(wd) = workdir.clone() else { continue };
                    for command in i.commands() {
                        let program = command[0].rsplit('/').next().unwrap_or_default();
                        if program == "cd" {
                            break;
                        }
                        let paths: Vec<String> = command[1..]
                            .iter()
                            .filter(|a| !a.starts_with('-') && !a.contains('$'))
                            .map(|a| absolute(a, &wd))
                            .collect();
                        match (program, root) {
                            ("mkdir", true) => {
                                for p in paths {
                                    if !owners.user.contains(&p) {
                                        owners.root.entry(p).or_insert(false);
                                    }
                                }
                            }
                            ("chown" | "chmod", _) => {
                                for p in paths {
                                    owners
                                        .root
                                        .retain(|k, _| *k != p && !k.starts_with(&format!("{p}/")));
                                    owners.user.insert(p);
                                }
                            }
                            ("useradd" | "adduser", _) => owners.root.clear(),
                            ("mkdir" | "touch", false) => {
                                let p_flag = command
                                    .iter()
                                    .any(|a| a.starts_with('-') && a.contains('p'));
                                for p in paths {
                                    if let Some(dir) =
                                        blocked(&owners, &p, program == "mkdir" && p_flag)
                                    {
                                        findings.push(cx.finding(
                                            &RULE,
                                            i.line,
                                            format!(
                                                "`{program}` runs as a non-root user and writes {p} into {dir}, which root owns"
                                            ),
                                        ));
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// The root-owned folder that stops a write of `path`, when that is certain.
fn blocked(owners: &Owners, path: &str, mkdir_parents: bool) -> Option<String> {
    if owners.root.contains_key(path) || owners.user.contains(path) {
        return None;
    }
    let direct = parent(path);
    if let Some(copied) = owners.root.get(&direct) {
        return (!copied || mkdir_parents)
            .then_some(direct)
            .filter(|_| !copied);
    }
    if !mkdir_parents {
        return None;
    }
    let mut up = direct;
    while up != "/" {
        up = parent(&up);
        if owners.user.contains(&up) {
            return None;
        }
        if let Some(copied) = owners.root.get(&up) {
            return (!copied).then_some(up);
        }
    }
    None
}
