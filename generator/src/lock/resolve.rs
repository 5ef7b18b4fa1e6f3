//! The resolver: the newest versions that satisfy a blueprint's requested ranges and every
//! rule of the matrix, preferring versions already locked; when none exist, a PubGrub
//! explanation of why.
//!
//! Packages are the blueprint's direct requirements plus `python`, the interpreter (whose only
//! version is the matrix's target). Rules become dependencies of the versions they match: a
//! version of `A` that a rule covers depends on the rule's range of `B` (or on its complement
//! for `then-not`). A rule that asks for an extra the blueprint does not request depends on a
//! package that has no versions, so the resolver avoids those versions of `A` and, if it cannot,
//! says which rule stood in the way.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::fmt;

use pep440_rs::{Version, VersionSpecifiers};
use pubgrub::{
    DefaultStringReporter, Dependencies, DependencyProvider, DerivationTree, External,
    PackageResolutionStatistics, PubGrubError, Ranges, Reporter,
};

use super::matrix::{Condition, Effect, Matrix, PYTHON};
use crate::requirement::Requirement;

type Range = Ranges<Version>;

/// A node of the resolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Node {
    /// The blueprint being locked.
    Root(String),
    /// The interpreter.
    Python,
    /// A Python distribution, by normalised name.
    Package(String),
    /// Something a rule demands that cannot be had, e.g. an extra that is not requested.
    Unavailable { what: String, rule: String },
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Root(name) => write!(f, "blueprint {name}"),
            Node::Python => f.write_str("python"),
            Node::Package(name) => f.write_str(name),
            Node::Unavailable { what, .. } => f.write_str(what),
        }
    }
}

/// What to resolve.
#[derive(Debug, Clone)]
pub struct Request {
    pub blueprint: String,
    pub requested: Vec<Requirement>,
    /// APIs the blueprint's code uses (for `if-uses` rules).
    pub uses: Vec<String>,
    /// Versions to keep when they still fit (the current lock, minus packages being updated).
    pub preferred: BTreeMap<String, Version>,
}

/// A successful resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub versions: BTreeMap<String, Version>,
    /// Ids of the rules that applied to the chosen versions.
    pub rules: Vec<String>,
}

/// Why resolution failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The blueprint requests a package the matrix does not list.
    Unknown(String),
    /// No combination exists; the explanation reads like a proof.
    NoSolution(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Unknown(name) => write!(f, "'{name}' is not in the dependency matrix; add its candidate versions under [packages]"),
            Failure::NoSolution(why) => f.write_str(why),
        }
    }
}

struct Provider<'a> {
    matrix: &'a Matrix,
    request: &'a Request,
    requested: BTreeMap<&'a str, &'a Requirement>,
    python: [Version; 1],
}

fn ranges(spec: &VersionSpecifiers) -> Range {
    Range::from(spec.clone())
}

impl Provider<'_> {
    fn candidates(&self, node: &Node) -> &[Version] {
        match node {
            Node::Root(_) => &[],
            Node::Python => &self.python,
            Node::Package(name) => self
                .matrix
                .packages
                .get(name)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            Node::Unavailable { .. } => &[],
        }
    }

    /// The constraint an effect puts on the graph, if it applies to this blueprint.
    fn effect(&self, rule_id: &str, effect: &Effect) -> Option<(Node, Range)> {
        let node = |name: &str| {
            if name == PYTHON {
                Node::Python
            } else {
                Node::Package(name.to_owned())
            }
        };
        let present = |name: &str| name == PYTHON || self.requested.contains_key(name);
        match effect {
            Effect::Requires { name, versions } if present(name) => {
                Some((node(name), ranges(versions)))
            }
            Effect::Forbids { name, versions } if present(name) => {
                Some((node(name), ranges(versions).complement()))
            }
            Effect::Extra { name, extra } => {
                let req = self.requested.get(name.as_str())?;
                if req.extras.iter().any(|e| e == extra) {
                    None
                } else {
                    let what = format!("{name}[{extra}] (not requested by the blueprint)");
                    Some((
                        Node::Unavailable {
                            what,
                            rule: rule_id.to_owned(),
                        },
                        Range::full(),
                    ))
                }
            }
            _ => None,
        }
    }

    fn dependencies(&self, node: &Node, version: &Version) -> Vec<(Node, Range)> {
        let mut deps: BTreeMap<Node, Range> = BTreeMap::new();
        let mut add = |n: Node, r: Range| {
            let merged = match deps.remove(&n) {
                Some(existing) => existing.intersection(&r),
                None => r,
            };
            deps.insert(n, merged);
        };
        match node {
            Node::Root(_) => {
                add(Node::Python, Range::full());
                for req in self.request.requested.iter() {
                    add(Node::Package(req.name.clone()), ranges(&req.versions));
                }
                for rule in &self.matrix.rules {
                    if let Condition::Uses(api) = &rule.condition {
                        if self.request.uses.contains(api) {
                            if let Some((n, r)) = self.effect(&rule.id, &rule.effect) {
                                add(n, r);
                            }
                        }
                    }
                }
            }
            Node::Package(name) => {
                // What the index declares for this version: its Python bound, and its
                // requirements on the other packages the blueprint requests.
                if let Some(d) = self.matrix.declared.get(&(name.clone(), version.clone())) {
                    if let Some(python) = &d.requires_python {
                        add(Node::Python, ranges(python));
                    }
                    for (dep, spec) in &d.requires {
                        if self.requested.contains_key(dep.as_str()) {
                            add(Node::Package(dep.clone()), ranges(spec));
                        }
                    }
                }
                for rule in &self.matrix.rules {
                    if let Condition::Package {
                        name: if_name,
                        versions,
                    } = &rule.condition
                    {
                        if if_name == name && versions.contains(version) {
                            if let Some((n, r)) = self.effect(&rule.id, &rule.effect) {
                                add(n, r);
                            }
                        }
                    }
                }
            }
            Node::Python | Node::Unavailable { .. } => {}
        }
        deps.into_iter().collect()
    }
}

impl DependencyProvider for Provider<'_> {
    type P = Node;
    type V = Version;
    type VS = Range;
    type M = String;
    type Err = Infallible;
    type Priority = (u32, Reverse<usize>);

    fn prioritize(
        &self,
        package: &Node,
        range: &Range,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let count = self
            .candidates(package)
            .iter()
            .filter(|v| range.contains(v))
            .count();
        if count == 0 {
            return (u32::MAX, Reverse(0));
        }
        (stats.conflict_count(), Reverse(count))
    }

    fn choose_version(&self, package: &Node, range: &Range) -> Result<Option<Version>, Infallible> {
        if let Node::Root(_) = package {
            return Ok(Some(Version::new([0])));
        }
        if let Node::Package(name) = package {
            if let Some(v) = self.request.preferred.get(name) {
                if range.contains(v) && self.candidates(package).contains(v) {
                    return Ok(Some(v.clone()));
                }
            }
        }
        Ok(self
            .candidates(package)
            .iter()
            .rev()
            .find(|v| range.contains(v))
            .cloned())
    }

    fn get_dependencies(
        &self,
        package: &Node,
        version: &Version,
    ) -> Result<Dependencies<Node, Range, String>, Infallible> {
        Ok(Dependencies::Available(
            self.dependencies(package, version).into_iter().collect(),
        ))
    }
}

/// Resolves `request` against `matrix`.
pub fn resolve(matrix: &Matrix, request: &Request) -> Result<Resolution, Failure> {
    for req in &request.requested {
        if !matrix.packages.contains_key(&req.name) {
            return Err(Failure::Unknown(req.name.clone()));
        }
    }
    let provider = Provider {
        matrix,
        request,
        requested: request
            .requested
            .iter()
            .map(|r| (r.name.as_str(), r))
            .collect(),
        python: [matrix.python.clone()],
    };
    let root = Node::Root(request.blueprint.clone());
    match pubgrub::resolve(&provider, root, Version::new([0])) {
        Ok(solution) => {
            let versions: BTreeMap<String, Version> = solution
                .into_iter()
                .filter_map(|(node, v)| match node {
                    Node::Package(name) => Some((name, v)),
                    _ => None,
                })
                .collect();
            Ok(Resolution {
                rules: applied_rules(&provider, &versions),
                versions,
            })
        }
        Err(PubGrubError::NoSolution(mut tree)) => {
            tree.collapse_no_versions();
            let report = DefaultStringReporter::report(&tree);
            let report = name_empty_ranges(&provider, &tree, &report);
            let mut why = tidy(&report, &request.blueprint);
            let mut involved = BTreeSet::new();
            rules_in(&provider, &tree, &mut involved);
            if !involved.is_empty() {
                why.push_str("\n\nRules involved:");
                for rule in matrix.rules.iter().filter(|r| involved.contains(&r.id)) {
                    why.push_str(&format!(
                        "\n  - {}: {}\n    evidence: {}",
                        rule.id, rule.reason, rule.evidence
                    ));
                }
            }
            Err(Failure::NoSolution(why))
        }
        Err(other) => Err(Failure::NoSolution(other.to_string())),
    }
}

/// Collects the ids of the matrix rules behind the dependency edges of a derivation tree.
fn rules_in(
    p: &Provider<'_>,
    tree: &DerivationTree<Node, Range, String>,
    ids: &mut BTreeSet<String>,
) {
    for_each_edge(tree, &mut |from, from_range, to, _| {
        ids.extend(edge_rules(p, from, from_range, to));
    });
}

/// Calls `f` with every dependency edge of a derivation tree.
fn for_each_edge(
    tree: &DerivationTree<Node, Range, String>,
    f: &mut dyn FnMut(&Node, &Range, &Node, &Range),
) {
    match tree {
        DerivationTree::External(External::FromDependencyOf(from, from_range, to, to_range)) => {
            f(from, from_range, to, to_range);
        }
        DerivationTree::External(_) => {}
        DerivationTree::Derived(d) => {
            for_each_edge(&d.cause1, f);
            for_each_edge(&d.cause2, f);
        }
    }
}

/// The ids of the matrix rules that make `from` (in `from_range`) depend on `to`.
fn edge_rules(p: &Provider<'_>, from: &Node, from_range: &Range, to: &Node) -> Vec<String> {
    let mut ids = Vec::new();
    for rule in &p.matrix.rules {
        let condition = match (&rule.condition, from) {
            (Condition::Package { name, versions }, Node::Package(pkg)) => {
                name == pkg
                    && p.candidates(from)
                        .iter()
                        .any(|v| from_range.contains(v) && versions.contains(v))
            }
            (Condition::Uses(api), Node::Root(_)) => p.request.uses.contains(api),
            _ => false,
        };
        let target = match to {
            Node::Python => rule.effect.target() == PYTHON,
            Node::Package(name) => {
                rule.effect.target() == name && !matches!(rule.effect, Effect::Extra { .. })
            }
            Node::Unavailable { rule: id, .. } => &rule.id == id,
            Node::Root(_) => false,
        };
        if condition && target {
            ids.push(rule.id.clone());
        }
    }
    ids
}

/// PubGrub writes a dependency no version satisfies as `depends on pydantic ∅`: say instead
/// which rule rules every version out.
fn name_empty_ranges(
    p: &Provider<'_>,
    tree: &DerivationTree<Node, Range, String>,
    report: &str,
) -> String {
    let mut out = report.to_owned();
    for_each_edge(tree, &mut |from, from_range, to, to_range| {
        if *to_range != Range::empty() {
            return;
        }
        let ids = edge_rules(p, from, from_range, to);
        let by = match ids.as_slice() {
            [] => "no candidate of the matrix fits".to_owned(),
            [one] => format!("rule {one}"),
            many => format!("rules {}", many.join(", ")),
        };
        out = out.replace(
            &format!("depends on {to} ∅"),
            &format!("rules out every version of {to} ({by})"),
        );
    });
    out.replace('∅', "no version")
}

/// Makes PubGrub's report read in the blueprint's terms.
fn tidy(report: &str, blueprint: &str) -> String {
    report.replace(
        &format!("blueprint {blueprint} 0"),
        &format!("blueprint {blueprint}"),
    )
}

/// The rules whose condition holds for the chosen versions and whose effect reaches a package
/// of this blueprint (or the interpreter).
fn applied_rules(p: &Provider<'_>, versions: &BTreeMap<String, Version>) -> Vec<String> {
    let mut ids = BTreeSet::new();
    for rule in &p.matrix.rules {
        let holds = match &rule.condition {
            Condition::Package {
                name,
                versions: spec,
            } => versions.get(name).is_some_and(|v| spec.contains(v)),
            Condition::Uses(api) => p.request.uses.contains(api),
        };
        let reaches = match &rule.effect {
            Effect::Extra { name, .. } => p.requested.contains_key(name.as_str()),
            e => e.target() == PYTHON || p.requested.contains_key(e.target()),
        };
        if holds && reaches {
            ids.insert(rule.id.clone());
        }
    }
    ids.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn matrix(extra_rules: &str) -> Matrix {
        let text = format!(
            r#"[python]
target = "3.11"
[packages]
fastapi = ["0.115.0", "0.162.5", "0.165.0"]
pydantic = ["2.9.2", "2.10.0", "2.10.1", "2.14.4"]
sqlmodel = ["0.0.22", "0.0.31", "0.0.50"]
sqlalchemy = ["2.0.58", "2.1.9"]
{extra_rules}"#
        );
        Matrix::parse(&text, "test matrix").unwrap()
    }

    const RULES: &str = r#"
[[rules]]
id = "sqlmodel-pydantic-2.10.0"
if = "sqlmodel"
then-not = "pydantic==2.10.0"
reason = "r"
evidence = "e"

[[rules]]
id = "sqlmodel-0.0.34-pydantic-2.11"
if = "sqlmodel>=0.0.34"
then = "pydantic>=2.11.0"
reason = "r"
evidence = "e"

[[rules]]
id = "sqlmodel-0.0.31-sqlalchemy-2.0"
if = "sqlmodel<=0.0.31"
then = "sqlalchemy<2.1"
reason = "r"
evidence = "e"

[[rules]]
id = "sqlalchemy-2.1-asyncio-extra"
if = "sqlalchemy>=2.1"
then = "sqlalchemy[asyncio]"
reason = "r"
evidence = "e"

[[rules]]
id = "fastapi-python-3.11"
if = "fastapi>=0.162.6"
then = "python>=3.11"
reason = "r"
evidence = "e"
"#;

    fn req(spec: &str) -> Requirement {
        Requirement::parse(spec).unwrap()
    }

    fn request(specs: &[&str]) -> Request {
        Request {
            blueprint: "demo".into(),
            requested: specs.iter().map(|s| req(s)).collect(),
            uses: vec![],
            preferred: BTreeMap::new(),
        }
    }

    fn v(s: &str) -> Version {
        Version::from_str(s).unwrap()
    }

    #[test]
    fn picks_the_newest_allowed_versions_and_names_the_rules() {
        let m = matrix(RULES);
        let r = resolve(
            &m,
            &request(&["fastapi", "pydantic", "sqlmodel", "sqlalchemy[asyncio]"]),
        )
        .unwrap();
        assert_eq!(r.versions["fastapi"], v("0.165.0"));
        assert_eq!(r.versions["pydantic"], v("2.14.4"));
        assert_eq!(r.versions["sqlmodel"], v("0.0.50"));
        assert_eq!(r.versions["sqlalchemy"], v("2.1.9"));
        assert_eq!(
            r.rules,
            vec![
                "fastapi-python-3.11",
                "sqlalchemy-2.1-asyncio-extra",
                "sqlmodel-0.0.34-pydantic-2.11",
                "sqlmodel-pydantic-2.10.0"
            ]
        );
    }

    #[test]
    fn pydantic_2_10_0_alone_is_avoided_but_2_10_1_is_fine() {
        let m = matrix(RULES);
        let r = resolve(
            &m,
            &request(&["pydantic<2.11", "sqlmodel<=0.0.31", "sqlalchemy"]),
        )
        .unwrap();
        assert_eq!(r.versions["pydantic"], v("2.10.1"));
        let err = resolve(&m, &request(&["pydantic==2.10.0", "sqlmodel"])).unwrap_err();
        snapshot!("resolve@pinned_pydantic_2_10_0", err.to_string());
    }

    #[test]
    fn a_missing_extra_steers_to_versions_that_do_not_need_it() {
        let m = matrix(RULES);
        let r = resolve(&m, &request(&["sqlalchemy"])).unwrap();
        assert_eq!(r.versions["sqlalchemy"], v("2.0.58"));
        let err = resolve(&m, &request(&["sqlalchemy>=2.1"])).unwrap_err();
        snapshot!("resolve@sqlalchemy_2_1_without_asyncio", err.to_string());
    }

    #[test]
    fn conflicts_explain_the_chain_of_reasons() {
        let m = matrix(RULES);
        let err = resolve(&m, &request(&["sqlmodel>=0.0.50", "pydantic<2.11"])).unwrap_err();
        snapshot!("resolve@sqlmodel_0_0_50_old_pydantic", err.to_string());
    }

    /// A rule that forbids every version of a package is named in the explanation, which
    /// never shows pubgrub's empty set.
    #[test]
    fn a_rule_forbidding_every_version_is_named_never_an_empty_set() {
        let rule = "[[rules]]\nid = \"no-pydantic-with-sqlmodel\"\nif = \"sqlmodel\"\nthen-not = \"pydantic\"\nreason = \"r\"\nevidence = \"e\"\n";
        let m = matrix(rule);
        let err = resolve(&m, &request(&["sqlmodel", "pydantic"]))
            .unwrap_err()
            .to_string();
        assert!(!err.contains('∅'), "{err}");
        assert!(
            err.contains("rules out every version of pydantic (rule no-pydantic-with-sqlmodel)"),
            "{err}"
        );
    }

    #[test]
    fn python_rules_apply_to_the_target_interpreter() {
        let text = format!("{}\n", RULES).replace("python>=3.11", "python>=3.12");
        let m = matrix(&text);
        let r = resolve(&m, &request(&["fastapi"])).unwrap();
        assert_eq!(r.versions["fastapi"], v("0.162.5"));
        let err = resolve(&m, &request(&["fastapi>=0.165"])).unwrap_err();
        snapshot!("resolve@fastapi_needs_newer_python", err.to_string());
    }

    /// The index's declarations steer the resolver away from sets pip would refuse: openai-agents
    /// 0.7.0 declares `openai<3`, and a candidate needing a newer Python is not proposed.
    #[test]
    fn what_the_index_declares_is_obeyed() {
        let text = r#"[python]
target = "3.11"
[packages]
openai = ["2.54.0", "3.57.0"]
openai-agents = ["0.7.0", "0.24.0"]
fastapi = ["0.165.0", "0.170.0"]
"#;
        let mut m = Matrix::parse(text, "test matrix").unwrap();
        let index: crate::lock::index::Index = toml::from_str(
            r#"
[declared.openai-agents."0.24.0"]
requires = ["openai>=3.50"]
[declared.openai-agents."0.7.0"]
requires = ["openai<3,>=2.9"]
[declared.fastapi."0.170.0"]
requires-python = ">=3.12"
"#,
        )
        .unwrap();
        m.add_index(&index).unwrap();
        let r = resolve(&m, &request(&["openai-agents", "openai<3", "fastapi"])).unwrap();
        assert_eq!(r.versions["openai-agents"], v("0.7.0"));
        assert_eq!(
            r.versions["fastapi"],
            v("0.165.0"),
            "0.170.0 needs Python 3.12"
        );
        let r = resolve(&m, &request(&["openai-agents", "openai"])).unwrap();
        assert_eq!(
            (&r.versions["openai-agents"], &r.versions["openai"]),
            (&v("0.24.0"), &v("3.57.0"))
        );
        let err = resolve(&m, &request(&["openai-agents>=0.24", "openai<3"])).unwrap_err();
        assert!(err.to_string().contains("openai-agents"), "{err}");
    }

    #[test]
    fn locked_versions_are_kept_while_they_fit() {
        let m = matrix(RULES);
        let mut r = request(&["fastapi", "pydantic"]);
        r.preferred.insert("pydantic".into(), v("2.9.2"));
        r.preferred.insert("fastapi".into(), v("0.1.0"));
        let res = resolve(&m, &r).unwrap();
        assert_eq!(res.versions["pydantic"], v("2.9.2"));
        assert_eq!(
            res.versions["fastapi"],
            v("0.165.0"),
            "a preferred version outside the candidates is ignored"
        );
    }

    #[test]
    fn uses_rules_constrain_from_the_root() {
        let rules = format!("{RULES}\n[[rules]]\nid = \"old-api\"\nif-uses = \"pydantic.v1\"\nthen-not = \"pydantic>=2.10\"\nreason = \"r\"\nevidence = \"e\"\n");
        let m = matrix(&rules);
        let mut r = request(&["pydantic"]);
        r.uses.push("pydantic.v1".into());
        let res = resolve(&m, &r).unwrap();
        assert_eq!(res.versions["pydantic"], v("2.9.2"));
        assert_eq!(res.rules, vec!["old-api"]);
    }

    #[test]
    fn unknown_packages_are_named() {
        let err = resolve(&matrix(RULES), &request(&["nope"])).unwrap_err();
        assert_eq!(err, Failure::Unknown("nope".into()));
    }
}
