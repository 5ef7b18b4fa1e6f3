//! `spacegen matrix refresh`: what the package index declares, into matrix.index.toml.

use std::path::Path;

use super::printer::Printer;
use super::progress::Steps;
use crate::error::Result;
use crate::lock::index::{self, Index};
use crate::lock::interpreter;
use crate::lock::matrix::{self, Matrix};

pub(super) fn refresh(packages: &[String], dir: &Path, printer: &Printer) -> Result<()> {
    let path = dir.join(matrix::FILE_NAME);
    if !dir.is_dir() {
        return Err(super::no_blueprints_folder(dir));
    }
    let text = matrix::read(&path)?;
    let listed = Matrix::parse(&text, &path.display().to_string())?;
    let old = Index::read(dir)?.unwrap_or_default();
    let python = interpreter::interpreter();
    let asked = if packages.is_empty() {
        listed.packages.len()
    } else {
        packages.len()
    };
    let refreshed = Steps::new(printer).run(
        format!(
            "asking the package index about {asked} package{}…",
            if asked == 1 { "" } else { "s" }
        ),
        || index::refresh(&python, &listed.packages, old, packages),
    )?;
    for (name, version) in &refreshed.new_versions {
        printer.out(format_args!("{name} {version}: new candidate"))?;
    }
    let declared: usize = refreshed.index.declared.values().map(|v| v.len()).sum();
    let target = dir.join(index::FILE_NAME);
    crate::lock::file::replace(&target, refreshed.index.to_text()?.as_bytes())?;
    printer.out(format_args!(
        "wrote {} ({declared} candidates with their declared requirements); run `spacegen lock` to use it",
        target.display()
    ))
}
