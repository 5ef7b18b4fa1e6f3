//! What each platform needs to install a locked set, read from the files the lock pins: for
//! every target (an OS and a CPU) and CPython minor, the oldest glibc (Linux) or macOS that has
//! a wheel for every package, the packages that set that floor, the packages that would build
//! from their sdist and those that cannot install at all. "Resolved for" then claims only what
//! the files prove.
//!
//! Nothing here touches the disk or prints. Wheel tags are matched as pip's `packaging.tags`
//! matches them for CPython installing from an index: `linux_*` wheels (an index refuses them),
//! musllinux (not glibc), PyPy and free-threaded (`cp313t`) builds never count. A macOS version
//! is taken as the tag writes it, raised to 11.0 on arm64 (no older macOS runs there).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder, MarkerTree};

use super::file::LockedArtifact;

/// An operating system spacegen states support for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Os {
    Linux,
    Macos,
    Windows,
}

/// A CPU family: `X86_64` is Windows' AMD64, `Arm64` is Linux's aarch64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Arch {
    X86_64,
    Arm64,
}

/// Where a set is installed: an OS on a CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Target {
    pub os: Os,
    pub arch: Arch,
}

/// The targets a locked set is judged for, in the order results come.
pub(crate) const TARGETS: [Target; 5] = [
    Target::new(Os::Linux, Arch::X86_64),
    Target::new(Os::Linux, Arch::Arm64),
    Target::new(Os::Macos, Arch::X86_64),
    Target::new(Os::Macos, Arch::Arm64),
    Target::new(Os::Windows, Arch::X86_64),
];

/// A glibc or macOS version, `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct OsVersion {
    pub major: u32,
    pub minor: u32,
}

/// The oldest OS version a target needs, the packages whose wheels need that much (each of
/// them, by name: raising one alone does not lower the floor), and on which Python.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Floor {
    pub version: OsVersion,
    pub packages: Vec<String>,
    pub python: String,
}

/// A package on a Python, for what builds from source or cannot install.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PackageOn {
    pub package: String,
    pub python: String,
}

/// What one target needs on one Python.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetSupport {
    pub target: Target,
    /// The CPython minor, as given (`3.12`).
    pub python: String,
    /// The highest of the packages' requirements; `None` when no wheel needs an OS version
    /// (every package pure, or only Windows wheels).
    pub minimum: Option<Floor>,
    /// Packages with no wheel here but an sdist: they build, given a compiler and headers.
    pub builds_from_source: Vec<String>,
    /// Packages with neither a wheel here nor an sdist.
    pub uninstallable: Vec<String>,
}

/// What one target needs across the Pythons: [`summarise`] of [`TargetSupport`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlatformSupport {
    pub target: Target,
    /// The highest minimum over the Pythons (the first Python that reaches it, with the
    /// packages that set it there).
    pub minimum: Option<Floor>,
    pub builds_from_source: Vec<PackageOn>,
    pub uninstallable: Vec<PackageOn>,
}

/// Which artifacts count: the runtime set, or with the development (test) requirements.
#[allow(dead_code)] // wired in by the "resolved for" claims
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Runtime,
    WithDev,
}

/// Input [`support`] cannot judge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PlatformError {
    #[error("{0:?} is not a CPython minor version of the form 3.X")]
    Python(String),
    #[error("the marker of {package} ({marker:?}) is not a PEP 508 marker: {reason}")]
    Marker {
        package: String,
        marker: String,
        reason: String,
    },
}

/// For every target of [`TARGETS`] and every Python of `pythons` (`3.X`), in that order, what
/// installing `artifacts` needs there.
#[allow(dead_code)] // wired in by the "resolved for" claims
pub(crate) fn support(
    artifacts: &[LockedArtifact],
    pythons: &[impl AsRef<str>],
    scope: Scope,
) -> Result<Vec<TargetSupport>, PlatformError> {
    let counted = artifacts
        .iter()
        .filter(|a| scope == Scope::WithDev || !a.dev)
        .map(|a| Ok((a, marker_of(a)?)))
        .collect::<Result<Vec<_>, PlatformError>>()?;
    let minors = pythons
        .iter()
        .map(|p| Ok((p.as_ref(), minor_of(p.as_ref())?)))
        .collect::<Result<Vec<_>, PlatformError>>()?;
    let mut out = Vec::with_capacity(TARGETS.len() * minors.len());
    for target in TARGETS {
        for &(python, minor) in &minors {
            let env = target.environment(minor)?;
            let here = counted
                .iter()
                .filter(|(_, m)| m.as_ref().is_none_or(|m| m.evaluate(&env, &[])))
                .map(|(a, _)| *a);
            out.push(target_support(target, python, minor, here));
        }
    }
    Ok(out)
}

/// Per target, across the Pythons of `support`: the highest minimum and every package that
/// builds from source or cannot install, with its Python.
#[allow(dead_code)] // wired in by the "resolved for" claims
pub(crate) fn summarise(support: &[TargetSupport]) -> Vec<PlatformSupport> {
    TARGETS
        .iter()
        .filter(|t| support.iter().any(|s| s.target == **t))
        .map(|&target| summarise_target(target, support))
        .collect()
}

fn summarise_target(target: Target, support: &[TargetSupport]) -> PlatformSupport {
    let rows = || support.iter().filter(move |s| s.target == target);
    let mut minimum: Option<Floor> = None;
    for floor in rows().filter_map(|s| s.minimum.as_ref()) {
        if minimum.as_ref().is_none_or(|m| floor.version > m.version) {
            minimum = Some(floor.clone());
        }
    }
    let on = |pick: fn(&TargetSupport) -> &Vec<String>| {
        rows()
            .flat_map(|s| {
                pick(s).iter().map(|p| PackageOn {
                    package: p.clone(),
                    python: s.python.clone(),
                })
            })
            .collect()
    };
    PlatformSupport {
        target,
        minimum,
        builds_from_source: on(|s| &s.builds_from_source),
        uninstallable: on(|s| &s.uninstallable),
    }
}

/// How a package installs on a target and Python.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Install {
    Wheel(Fit),
    Sdist,
    Impossible,
}

/// What a wheel needs of the OS: nothing, or at least a version. Ordered by need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fit {
    Anywhere,
    From(OsVersion),
}

fn target_support<'a>(
    target: Target,
    python: &str,
    minor: u32,
    artifacts: impl Iterator<Item = &'a LockedArtifact>,
) -> TargetSupport {
    let mut support = TargetSupport {
        target,
        python: python.to_owned(),
        minimum: None,
        builds_from_source: Vec::new(),
        uninstallable: Vec::new(),
    };
    for a in artifacts {
        match install(a, target, minor) {
            Install::Wheel(Fit::Anywhere) => {}
            Install::Wheel(Fit::From(version)) => raise(&mut support.minimum, version, a, python),
            Install::Sdist => support.builds_from_source.push(a.name.clone()),
            Install::Impossible => support.uninstallable.push(a.name.clone()),
        }
    }
    if let Some(m) = &mut support.minimum {
        m.packages.sort_unstable();
        m.packages.dedup();
    }
    support
}

/// Adds `artifact`'s need of `version` to the floor so far.
fn raise(floor: &mut Option<Floor>, version: OsVersion, artifact: &LockedArtifact, python: &str) {
    match floor.as_ref().map(|m| version.cmp(&m.version)) {
        Some(Ordering::Less) => {}
        Some(Ordering::Equal) => {
            if let Some(m) = floor {
                m.packages.push(artifact.name.clone());
            }
        }
        Some(Ordering::Greater) | None => {
            *floor = Some(Floor {
                version,
                packages: vec![artifact.name.clone()],
                python: python.to_owned(),
            });
        }
    }
}

/// The least `artifact`'s files need on `target` with CPython 3.`minor`.
fn install(artifact: &LockedArtifact, target: Target, minor: u32) -> Install {
    let names = artifact.files.iter().map(|f| f.name.as_str());
    let mut best: Option<Fit> = None;
    let mut sdist = false;
    for name in names {
        match WheelTags::parse(name) {
            Some(wheel) => {
                if let Some(fit) = wheel.fit(target, minor) {
                    best = Some(best.map_or(fit, |b| b.min(fit)));
                }
            }
            None => sdist |= name.ends_with(".tar.gz") || name.ends_with(".zip"),
        }
    }
    match (best, sdist) {
        (Some(fit), _) => Install::Wheel(fit),
        (None, true) => Install::Sdist,
        (None, false) => Install::Impossible,
    }
}

fn marker_of(artifact: &LockedArtifact) -> Result<Option<MarkerTree>, PlatformError> {
    let Some(marker) = &artifact.marker else {
        return Ok(None);
    };
    MarkerTree::from_str(marker)
        .map(Some)
        .map_err(|e| PlatformError::Marker {
            package: artifact.name.clone(),
            marker: marker.clone(),
            reason: e.to_string(),
        })
}

/// The `X` of `3.X`.
fn minor_of(python: &str) -> Result<u32, PlatformError> {
    python
        .strip_prefix("3.")
        .filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|m| m.parse().ok())
        .ok_or_else(|| PlatformError::Python(python.to_owned()))
}

/// The three tag sets of a wheel's file name, each split at its dots (PEP 425 compression).
#[derive(Debug, Clone, PartialEq, Eq)]
struct WheelTags<'a> {
    python: Vec<&'a str>,
    abi: Vec<&'a str>,
    platform: Vec<&'a str>,
}

impl<'a> WheelTags<'a> {
    /// `name-version[-build]-python-abi-platform.whl`; `None` for anything else.
    fn parse(file: &'a str) -> Option<WheelTags<'a>> {
        let stem = file.strip_suffix(".whl")?;
        let parts: Vec<&str> = stem.split('-').collect();
        let [.., python, abi, platform] = parts[..] else {
            return None;
        };
        if !matches!(parts.len(), 5 | 6) {
            return None;
        }
        let split = |tags: &'a str| tags.split('.').collect::<Vec<_>>();
        Some(WheelTags {
            python: split(python),
            abi: split(abi),
            platform: split(platform),
        })
    }

    /// What this wheel needs of `target` to install with CPython 3.`minor`; `None` when it
    /// does not install there.
    fn fit(&self, target: Target, minor: u32) -> Option<Fit> {
        let python_ok = self
            .python
            .iter()
            .any(|p| self.abi.iter().any(|a| cpython_accepts(p, a, minor)));
        if !python_ok {
            return None;
        }
        self.platform.iter().filter_map(|p| target.accepts(p)).min()
    }
}

/// Whether CPython 3.`minor` installs a wheel tagged `python`-`abi` (packaging's
/// `cpython_tags` and `compatible_tags`): `cp3X` with its own ABI, `abi3` or none; the stable
/// ABI of an older `cp3Y`; `py3` and `py3Y` (Y <= X) without an ABI.
fn cpython_accepts(python: &str, abi: &str, minor: u32) -> bool {
    let version = |prefix: &str| {
        python
            .strip_prefix(prefix)
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<u32>().ok())
    };
    if let Some(y) = version("cp3") {
        let own_abi = abi.strip_prefix("cp3") == Some(&y.to_string());
        return (y == minor && (own_abi || abi == "none" || abi == "abi3"))
            || (y < minor && abi == "abi3");
    }
    if python == "py3" {
        return abi == "none";
    }
    version("py3").is_some_and(|y| y <= minor && abi == "none")
}

impl Target {
    const fn new(os: Os, arch: Arch) -> Target {
        Target { os, arch }
    }

    /// What a wheel's platform tag needs here; `None` when it does not install here.
    fn accepts(self, tag: &str) -> Option<Fit> {
        if tag == "any" {
            return Some(Fit::Anywhere);
        }
        match self.os {
            Os::Linux => manylinux(tag, self.arch).map(Fit::From),
            Os::Macos => macos(tag, self.arch).map(|v| match self.arch {
                // No arm64 Mac runs older than 11.0: a universal2 tag's 10.x is its Intel half.
                Arch::Arm64 => Fit::From(v.max(OsVersion::new(11, 0))),
                Arch::X86_64 => Fit::From(v),
            }),
            Os::Windows => {
                let own = match self.arch {
                    Arch::X86_64 => "win_amd64",
                    Arch::Arm64 => "win_arm64",
                };
                (tag == own).then_some(Fit::Anywhere)
            }
        }
    }

    /// The marker environment of a CPython 3.`minor`.0 here.
    fn environment(self, minor: u32) -> Result<MarkerEnvironment, PlatformError> {
        let (sys_platform, platform_system, os_name) = match self.os {
            Os::Linux => ("linux", "Linux", "posix"),
            Os::Macos => ("darwin", "Darwin", "posix"),
            Os::Windows => ("win32", "Windows", "nt"),
        };
        let platform_machine = match (self.os, self.arch) {
            (Os::Windows, Arch::X86_64) => "AMD64",
            (Os::Windows, Arch::Arm64) => "ARM64",
            (Os::Macos, Arch::Arm64) => "arm64",
            (Os::Linux, Arch::Arm64) => "aarch64",
            (_, Arch::X86_64) => "x86_64",
        };
        let full = format!("3.{minor}.0");
        let short = format!("3.{minor}");
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: &full,
            os_name,
            platform_machine,
            platform_python_implementation: "CPython",
            platform_release: "",
            platform_system,
            platform_version: "",
            python_full_version: &full,
            python_version: &short,
            sys_platform,
        })
        .map_err(|_| PlatformError::Python(short.clone()))
    }
}

/// The glibc a `manylinux` tag for `arch` needs: `manylinux_2_N_<arch>`, or the legacy
/// `manylinux1` (2.5), `manylinux2010` (2.12) and `manylinux2014` (2.17).
fn manylinux(tag: &str, arch: Arch) -> Option<OsVersion> {
    let rest = tag.strip_prefix("manylinux")?;
    let (version, tag_arch) = match rest.strip_prefix('_') {
        Some(pep600) => {
            let (major, rest) = pep600.split_once('_')?;
            let (minor, tag_arch) = rest.split_once('_')?;
            (OsVersion::parse(major, minor)?, tag_arch)
        }
        None => {
            let (alias, tag_arch) = rest.split_once('_')?;
            let version = match alias {
                "1" => OsVersion::new(2, 5),
                "2010" => OsVersion::new(2, 12),
                "2014" => OsVersion::new(2, 17),
                _ => return None,
            };
            (version, tag_arch)
        }
    };
    let own = match arch {
        Arch::X86_64 => "x86_64",
        Arch::Arm64 => "aarch64",
    };
    (tag_arch == own).then_some(version)
}

/// The macOS a `macosx_X_Y_<format>` tag needs, if `format` runs on `arch` (packaging's
/// `_mac_binary_formats`).
fn macos(tag: &str, arch: Arch) -> Option<OsVersion> {
    let rest = tag.strip_prefix("macosx_")?;
    let (major, rest) = rest.split_once('_')?;
    let (minor, format) = rest.split_once('_')?;
    let formats: &[&str] = match arch {
        Arch::X86_64 => &[
            "x86_64",
            "intel",
            "fat64",
            "fat32",
            "universal2",
            "universal",
        ],
        Arch::Arm64 => &["arm64", "universal2"],
    };
    formats
        .contains(&format)
        .then(|| OsVersion::parse(major, minor))
        .flatten()
}

impl OsVersion {
    const fn new(major: u32, minor: u32) -> OsVersion {
        OsVersion { major, minor }
    }

    fn parse(major: &str, minor: &str) -> Option<OsVersion> {
        Some(OsVersion::new(major.parse().ok()?, minor.parse().ok()?))
    }
}

impl fmt::Display for OsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match (self.os, self.arch) {
            (Os::Linux, Arch::X86_64) => "Linux x86_64",
            (Os::Linux, Arch::Arm64) => "Linux aarch64",
            (Os::Macos, Arch::X86_64) => "macOS x86_64",
            (Os::Macos, Arch::Arm64) => "macOS arm64",
            (Os::Windows, Arch::X86_64) => "Windows x64",
            (Os::Windows, Arch::Arm64) => "Windows arm64",
        };
        f.write_str(text)
    }
}

/// `Linux x86_64 (glibc 2.28+)`, `macOS arm64 (11.0+)`, `Windows x64`; what builds from source
/// or cannot install is added in the parentheses (`; builds psycopg from source`).
impl fmt::Display for PlatformSupport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut notes = Vec::new();
        if let Some(m) = &self.minimum {
            notes.push(match self.target.os {
                Os::Linux => format!("glibc {}+", m.version),
                Os::Macos | Os::Windows => format!("{}+", m.version),
            });
        }
        if !self.builds_from_source.is_empty() {
            notes.push(format!(
                "builds {} from source",
                packages(&self.builds_from_source)
            ));
        }
        if !self.uninstallable.is_empty() {
            notes.push(format!("cannot install {}", packages(&self.uninstallable)));
        }
        write!(f, "{}", self.target)?;
        if !notes.is_empty() {
            write!(f, " ({})", notes.join("; "))?;
        }
        Ok(())
    }
}

/// The distinct package names of `on`, in order, joined with commas.
fn packages(on: &[PackageOn]) -> String {
    let mut names: Vec<&str> = on.iter().map(|p| p.package.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(name: &str, marker: Option<&str>, files: &[&str]) -> LockedArtifact {
        LockedArtifact {
            name: name.to_owned(),
            version: "1.0".to_owned(),
            extras: Vec::new(),
            marker: marker.map(str::to_owned),
            dev: false,
            files: files
                .iter()
                .map(|f| crate::lock::file::LockedFile {
                    name: (*f).to_owned(),
                    url: format!("https://files.example/{f}"),
                    size: None,
                    sha256: "0".repeat(64),
                })
                .collect(),
        }
    }

    fn at(os: Os, arch: Arch) -> Target {
        Target::new(os, arch)
    }

    fn v(major: u32, minor: u32) -> OsVersion {
        OsVersion::new(major, minor)
    }

    const LINUX_X86: Target = Target::new(Os::Linux, Arch::X86_64);
    const LINUX_ARM: Target = Target::new(Os::Linux, Arch::Arm64);
    const MAC_X86: Target = Target::new(Os::Macos, Arch::X86_64);
    const MAC_ARM: Target = Target::new(Os::Macos, Arch::Arm64);
    const WINDOWS: Target = Target::new(Os::Windows, Arch::X86_64);

    fn fit(file: &str, target: Target, minor: u32) -> Option<Fit> {
        WheelTags::parse(file).and_then(|w| w.fit(target, minor))
    }

    #[test]
    fn wheel_names_split_into_compressed_tags() {
        let w = WheelTags::parse(
            "asyncpg-0.32.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.python, ["cp311"]);
        assert_eq!(w.abi, ["cp311"]);
        assert_eq!(
            w.platform,
            ["manylinux2014_x86_64", "manylinux_2_17_x86_64"]
        );
        let built = WheelTags::parse("six-1.0-1-py2.py3-none-any.whl").unwrap();
        assert_eq!(built.python, ["py2", "py3"]);
        assert_eq!(WheelTags::parse("six-1.0.tar.gz"), None);
        assert_eq!(WheelTags::parse("six-py3-none-any.whl"), None);
    }

    #[test]
    fn a_compressed_platform_tag_needs_its_lowest_glibc() {
        let f =
            "x-1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl";
        assert_eq!(fit(f, LINUX_X86, 11), Some(Fit::From(v(2, 17))));
        assert_eq!(fit(f, LINUX_ARM, 11), None);
        assert_eq!(fit(f, MAC_X86, 11), None);
    }

    #[test]
    fn legacy_manylinux_names_are_their_glibc() {
        assert_eq!(manylinux("manylinux1_x86_64", Arch::X86_64), Some(v(2, 5)));
        assert_eq!(
            manylinux("manylinux2010_x86_64", Arch::X86_64),
            Some(v(2, 12))
        );
        assert_eq!(
            manylinux("manylinux2014_aarch64", Arch::Arm64),
            Some(v(2, 17))
        );
        assert_eq!(
            manylinux("manylinux_2_28_aarch64", Arch::Arm64),
            Some(v(2, 28))
        );
        assert_eq!(manylinux("manylinux2014_aarch64", Arch::X86_64), None);
        assert_eq!(manylinux("manylinux2_x86_64", Arch::X86_64), None);
        assert_eq!(manylinux("musllinux_1_2_x86_64", Arch::X86_64), None);
        assert_eq!(fit("x-1-cp312-cp312-linux_x86_64.whl", LINUX_X86, 12), None);
    }

    #[test]
    fn universal2_serves_both_macs_and_arm64_starts_at_11() {
        let f = "x-1-cp312-cp312-macosx_10_9_universal2.whl";
        assert_eq!(fit(f, MAC_X86, 12), Some(Fit::From(v(10, 9))));
        assert_eq!(fit(f, MAC_ARM, 12), Some(Fit::From(v(11, 0))));
        let intel = "x-1-cp312-cp312-macosx_10_6_intel.whl";
        assert_eq!(fit(intel, MAC_X86, 12), Some(Fit::From(v(10, 6))));
        assert_eq!(fit(intel, MAC_ARM, 12), None);
        let arm = "x-1-cp312-cp312-macosx_14_0_arm64.whl";
        assert_eq!(fit(arm, MAC_ARM, 12), Some(Fit::From(v(14, 0))));
        assert_eq!(fit(arm, MAC_X86, 12), None);
    }

    #[test]
    fn python_tags_follow_cpython() {
        let abi3 = "x-1-cp38-abi3-win_amd64.whl";
        assert_eq!(fit(abi3, WINDOWS, 13), Some(Fit::Anywhere));
        assert_eq!(fit("x-1-cp314-abi3-win_amd64.whl", WINDOWS, 13), None);
        assert_eq!(
            fit("x-1-cp312-cp312-win_amd64.whl", WINDOWS, 12),
            Some(Fit::Anywhere)
        );
        assert_eq!(fit("x-1-cp312-cp312-win_amd64.whl", WINDOWS, 13), None);
        assert_eq!(fit("x-1-cp313-cp313t-win_amd64.whl", WINDOWS, 13), None);
        assert_eq!(
            fit("x-1-pp310-pypy310_pp73-win_amd64.whl", WINDOWS, 10),
            None
        );
        assert_eq!(fit("x-1-cp311-none-win_amd64.whl", WINDOWS, 12), None);
        assert_eq!(
            fit("x-1-py311-none-win_amd64.whl", WINDOWS, 12),
            Some(Fit::Anywhere)
        );
        assert_eq!(fit("x-1-py313-none-any.whl", LINUX_X86, 12), None);
        assert_eq!(
            fit("x-1-py3-none-any.whl", MAC_ARM, 11),
            Some(Fit::Anywhere)
        );
        assert_eq!(fit("x-1-py3-none-win32.whl", WINDOWS, 11), None);
        assert_eq!(fit("x-1-py3-none-win_arm64.whl", WINDOWS, 11), None);
    }

    #[test]
    fn markers_are_evaluated_per_target_and_python() {
        let marker = |m: &str, target: Target, minor: u32| {
            MarkerTree::from_str(m)
                .unwrap()
                .evaluate(&target.environment(minor).unwrap(), &[])
        };
        let win = "sys_platform == 'win32'";
        assert!(marker(win, WINDOWS, 11));
        assert!(TARGETS
            .iter()
            .filter(|t| t.os != Os::Windows)
            .all(|t| !marker(win, *t, 11)));
        let greenlet = "platform_python_implementation != 'PyPy' and sys_platform != 'cygwin' and sys_platform != 'win32'";
        assert!(marker(greenlet, LINUX_ARM, 12) && marker(greenlet, MAC_ARM, 12));
        assert!(!marker(greenlet, WINDOWS, 12));
        assert!(marker("python_full_version == '3.11.*'", MAC_X86, 11));
        assert!(!marker("python_full_version == '3.11.*'", MAC_X86, 12));
        assert!(marker("python_full_version >= '3.12'", LINUX_X86, 12));
        assert!(!marker("python_version < '3.12'", LINUX_X86, 13));
        assert!(marker(
            "platform_machine == 'AMD64' and os_name == 'nt'",
            WINDOWS,
            13
        ));
        assert!(marker(
            "platform_machine == 'aarch64' and platform_system == 'Linux'",
            LINUX_ARM,
            13
        ));
        assert!(marker(
            "platform_machine == 'arm64' and sys_platform == 'darwin'",
            MAC_ARM,
            13
        ));
        assert!(marker(
            "implementation_name == 'cpython'",
            at(Os::Linux, Arch::X86_64),
            11
        ));
    }

    #[test]
    fn the_lowest_wheel_counts_and_the_highest_package_sets_the_minimum() {
        let artifacts = [
            artifact(
                "numpy",
                None,
                &[
                    "numpy-2-cp312-cp312-manylinux_2_28_x86_64.whl",
                    "numpy-2-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                    "numpy-2-cp311-cp311-manylinux_2_24_x86_64.whl",
                ],
            ),
            artifact(
                "greenlet",
                None,
                &["greenlet-3-cp312-cp312-manylinux_2_24_x86_64.whl"],
            ),
            artifact("pure", None, &["pure-1-py3-none-any.whl"]),
            artifact(
                "windows-only",
                Some("sys_platform == 'win32'"),
                &["windows_only-1.tar.gz"],
            ),
        ];
        let all = support(&artifacts, &["3.11", "3.12"], Scope::Runtime).unwrap();
        let linux = |python: &str| {
            all.iter()
                .find(|s| s.target == LINUX_X86 && s.python == python)
                .unwrap()
        };
        let floor = linux("3.12").minimum.clone().unwrap();
        assert_eq!(
            (floor.version, floor.packages),
            (v(2, 24), vec!["greenlet".to_owned()])
        );
        assert_eq!(linux("3.12").builds_from_source, Vec::<String>::new());
        // On 3.11 greenlet has no wheel and no sdist.
        assert_eq!(linux("3.11").uninstallable, ["greenlet"]);
        assert_eq!(linux("3.11").minimum.clone().unwrap().version, v(2, 24));
        let summary = summarise(&all);
        assert_eq!(summary.len(), TARGETS.len());
        assert_eq!(
            summary[0].to_string(),
            "Linux x86_64 (glibc 2.24+; cannot install greenlet)"
        );
        assert_eq!(summary[0].minimum.as_ref().unwrap().python, "3.11");
        let windows = summary.iter().find(|s| s.target == WINDOWS).unwrap();
        assert_eq!(
            windows.to_string(),
            "Windows x64 (builds windows-only from source; cannot install greenlet, numpy)"
        );
        assert_eq!(windows.builds_from_source.len(), 2);
    }

    #[test]
    fn a_higher_python_can_raise_the_summary() {
        let artifacts = [artifact(
            "numpy",
            None,
            &[
                "numpy-2-cp311-cp311-manylinux_2_17_aarch64.whl",
                "numpy-2-cp312-cp312-manylinux_2_28_aarch64.whl",
                "numpy-2-cp311-cp311-macosx_14_0_arm64.whl",
                "numpy-2-cp312-cp312-macosx_10_13_universal2.whl",
                "numpy-2-cp311-cp311-win_amd64.whl",
                "numpy-2-cp312-cp312-win_amd64.whl",
            ],
        )];
        let summary = summarise(&support(&artifacts, &["3.11", "3.12"], Scope::Runtime).unwrap());
        let text: Vec<String> = summary.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "Linux x86_64 (cannot install numpy)",
                "Linux aarch64 (glibc 2.28+)",
                "macOS x86_64 (10.13+; cannot install numpy)",
                "macOS arm64 (14.0+)",
                "Windows x64",
            ]
        );
        let arm = &summary[1].minimum.as_ref().unwrap();
        assert_eq!(
            (arm.python.as_str(), &arm.packages[..]),
            ("3.12", &["numpy".to_owned()][..])
        );
        let mac = &summary[3].minimum.as_ref().unwrap();
        assert_eq!(mac.python, "3.11");
    }

    #[test]
    fn an_sdist_only_package_builds_everywhere() {
        let artifacts = [
            artifact("legacy", None, &["legacy-1.0.tar.gz"]),
            artifact("zipped", None, &["Zipped-1.0.zip"]),
        ];
        let all = support(&artifacts, &["3.13"], Scope::Runtime).unwrap();
        assert_eq!(all.len(), TARGETS.len());
        for s in &all {
            assert_eq!(s.builds_from_source, ["legacy", "zipped"]);
            assert!(s.minimum.is_none() && s.uninstallable.is_empty());
        }
        assert_eq!(
            summarise(&all)[0].to_string(),
            "Linux x86_64 (builds legacy, zipped from source)"
        );
    }

    #[test]
    fn dev_artifacts_count_only_when_asked() {
        let mut pytest = artifact("pytest", None, &["pytest-1.0.tar.gz"]);
        pytest.dev = true;
        let artifacts = [pytest];
        let runtime = support(&artifacts, &["3.11"], Scope::Runtime).unwrap();
        assert!(runtime.iter().all(|s| s.builds_from_source.is_empty()));
        let dev = support(&artifacts, &["3.11"], Scope::WithDev).unwrap();
        assert!(dev.iter().all(|s| s.builds_from_source == ["pytest"]));
    }

    #[test]
    fn bad_input_is_an_error() {
        let none: [LockedArtifact; 0] = [];
        assert_eq!(
            support(&none, &["3"], Scope::Runtime),
            Err(PlatformError::Python("3".to_owned()))
        );
        assert!(support(&none, &["2.7"], Scope::Runtime).is_err());
        let bad = [artifact("x", Some("sys_platform ==="), &["x-1.0.tar.gz"])];
        assert!(matches!(
            support(&bad, &["3.12"], Scope::Runtime),
            Err(PlatformError::Marker { .. })
        ));
    }

    #[test]
    fn packages_needing_the_same_version_all_set_the_floor() {
        let artifacts = [
            artifact("zeta", None, &["zeta-1-cp312-cp312-macosx_11_0_arm64.whl"]),
            artifact(
                "alpha",
                None,
                &["alpha-1-cp312-abi3-macosx_10_9_universal2.whl"],
            ),
            artifact("older", None, &["older-1-py3-none-macosx_10_9_x86_64.whl"]),
        ];
        let all = support(&artifacts, &["3.12"], Scope::Runtime).unwrap();
        let mac_arm = all.iter().find(|s| s.target == MAC_ARM).unwrap();
        let floor = mac_arm.minimum.clone().unwrap();
        assert_eq!(
            (floor.version, floor.packages),
            (v(11, 0), vec!["alpha".to_owned(), "zeta".to_owned()])
        );
        assert_eq!(mac_arm.uninstallable, ["older"]);
        let mac_x86 = all.iter().find(|s| s.target == MAC_X86).unwrap();
        let floor = mac_x86.minimum.clone().unwrap();
        assert_eq!(
            (floor.version, floor.packages),
            (v(10, 9), vec!["alpha".to_owned(), "older".to_owned()])
        );
        assert_eq!(mac_x86.uninstallable, ["zeta"]);
    }

    /// What one package's files need on `target` with CPython 3.`minor`, among the artifacts of
    /// that name whose marker holds there.
    fn need_of(artifacts: &[LockedArtifact], name: &str, target: Target, minor: u32) -> Install {
        let env = target.environment(minor).unwrap();
        let applies = |a: &&LockedArtifact| {
            a.name == name
                && a.marker
                    .as_ref()
                    .is_none_or(|m| MarkerTree::from_str(m).unwrap().evaluate(&env, &[]))
        };
        let found: Vec<&LockedArtifact> = artifacts.iter().filter(applies).collect();
        assert_eq!(found.len(), 1, "{name} on {target} 3.{minor}");
        install(found[0], target, minor)
    }

    /// Over every blueprint of the embedded lock, what the files imply. Observed when this was
    /// written (CPython 3.11 to 3.13), the same for all three blueprints:
    /// - Linux x86_64 and aarch64 need glibc 2.28, set by asyncpg 0.32.0 on 3.12 alone (its
    ///   cp312 wheels are only manylinux_2_28; its cp311 and cp313 wheels are also
    ///   manylinux2014). On 3.11 and 3.13 the floor is 2.24 (greenlet) for sqlite-demo and
    ///   openrouter, 2.27 (numpy) for neon-qdrant-openai. numpy's wheels for 3.12 are tagged
    ///   `manylinux_2_27_x86_64.manylinux_2_28_x86_64`: numpy needs 2.27 there, not 2.28.
    /// - macOS x86_64 needs 11.0 (asyncpg, greenlet, httptools, and grpcio where locked: they
    ///   ship macosx_11_0 wheels only); macOS arm64 needs 11.0, as every arm64 wheel does.
    /// - Windows x64 needs nothing more.
    ///
    /// Nothing builds from source, nothing is missing, and the development requirements
    /// change none of it.
    #[test]
    fn the_embedded_lock() {
        let lock = crate::lock::file::embedded().unwrap().lock;
        let pythons = ["3.11", "3.12", "3.13"];
        for (name, bp) in &lock.blueprints {
            let all = support(&bp.artifacts, &pythons, Scope::WithDev).unwrap();
            assert_eq!(all.len(), TARGETS.len() * pythons.len());
            for s in &all {
                let at = format!("{name} on {} with {}", s.target, s.python);
                assert!(
                    s.uninstallable.is_empty() && s.builds_from_source.is_empty(),
                    "{at}: {s:?}"
                );
                let floor = s.minimum.as_ref().map(|m| m.version);
                match s.target.os {
                    Os::Windows => assert_eq!(floor, None, "{at}"),
                    Os::Macos => assert!(floor.is_some_and(|f| f >= v(11, 0)), "{at}: {floor:?}"),
                    Os::Linux => assert!(floor.is_some_and(|f| f >= v(2, 17)), "{at}: {floor:?}"),
                }
            }
            let runtime = summarise(&support(&bp.artifacts, &pythons, Scope::Runtime).unwrap());
            let linux = &runtime[0];
            assert_eq!(linux.target, LINUX_X86);
            assert!(
                linux.to_string().starts_with("Linux x86_64 (glibc 2."),
                "{linux}"
            );
            assert_eq!(runtime[4].to_string(), "Windows x64", "{name}");

            for target in [LINUX_X86, LINUX_ARM] {
                for minor in [11, 12, 13] {
                    let greenlet = need_of(&bp.artifacts, "greenlet", target, minor);
                    assert_eq!(
                        greenlet,
                        Install::Wheel(Fit::From(v(2, 24))),
                        "{name} {target} 3.{minor}"
                    );
                }
                let asyncpg = need_of(&bp.artifacts, "asyncpg", target, 12);
                assert_eq!(
                    asyncpg,
                    Install::Wheel(Fit::From(v(2, 28))),
                    "{name} {target}"
                );
                let at_312 = all
                    .iter()
                    .find(|s| s.target == target && s.python == "3.12")
                    .unwrap();
                let floor = at_312.minimum.as_ref().unwrap();
                assert_eq!(floor.version, v(2, 28), "{name} {target}");
                assert!(
                    floor.packages.contains(&"asyncpg".to_owned()),
                    "{name}: {floor:?}"
                );
            }
        }
        let neon = &lock.blueprints["neon-qdrant-openai"].artifacts;
        for minor in [11, 12, 13] {
            let numpy = need_of(neon, "numpy", LINUX_X86, minor);
            assert_eq!(numpy, Install::Wheel(Fit::From(v(2, 27))), "3.{minor}");
        }
    }
}
