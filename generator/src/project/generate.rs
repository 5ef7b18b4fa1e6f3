//! One generation, start to plan: answers collected, the context built from them and the
//! locked pins, templates rendered, the record added. Used by `spacegen new` and by
//! verification. Nothing here touches the disk.

use super::plan::Plan;
use super::{record, render};
use crate::answers::{self, Answers, Prompter, Provided};
use std::collections::BTreeMap;

use crate::blueprint::{Blueprint, Group, Template};
use crate::error::Result;
use crate::lock::LockedBlueprint;
use crate::template::context::PythonFacts;
use crate::template::{Context, Engine};

/// A generated project, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Generated {
    pub plan: Plan,
    pub answers: Answers,
    /// The blueprint's notes whose conditions hold, for the user.
    pub notes: Vec<String>,
}

/// Collects answers for `bp` and renders the whole project in memory.
pub(crate) fn generate(
    bp: &Blueprint,
    entry: &LockedBlueprint,
    provided: &Provided,
    prompter: Option<&mut dyn Prompter>,
) -> Result<Generated> {
    generate_from(bp, bp.templates.clone(), entry, provided, prompter)
}

/// [`generate`] for the last use of a blueprint: its templates are taken out of it and each is
/// let go once rendered, so a large blueprint is not held in memory beside its output.
pub(crate) fn generate_once(
    mut bp: Blueprint,
    entry: &LockedBlueprint,
    provided: &Provided,
    prompter: Option<&mut dyn Prompter>,
) -> Result<Generated> {
    let templates = std::mem::take(&mut bp.templates);
    generate_from(&bp, templates, entry, provided, prompter)
}

fn generate_from(
    bp: &Blueprint,
    templates: BTreeMap<String, Template>,
    entry: &LockedBlueprint,
    provided: &Provided,
    prompter: Option<&mut dyn Prompter>,
) -> Result<Generated> {
    let engine = Engine::new(&bp.partials, &bp.origin)?;
    let answers = answers::collect(bp, &engine, provided, prompter)?;
    let mut context = Context::base(&bp.name, &bp.version.to_string());
    context.insert_answers(answers.public());
    let runtime = included(&engine, &bp.dependencies.groups, &context)?;
    let dev = included(&engine, &bp.dependencies.dev, &context)?;
    let claims = crate::lock::claims::claims(entry);
    let (runtime, dev) = (
        entry.requirements(bp, &runtime, false)?,
        entry.requirements(bp, &dev, true)?,
    );
    // pylock.toml holds what the two requirements files pin, no more.
    let pinned: Vec<(&str, &str)> = runtime
        .iter()
        .chain(&dev)
        .flat_map(|g| &g.pins)
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    let python = PythonFacts {
        version: entry.python.clone(),
        requires: entry.requires_python.clone(),
        resolved_for: claims.resolved_for,
        verified_on: claims.verified_on,
        pylock: crate::lock::pylock::render(entry, &pinned),
    };
    context.insert_packages(&python, &runtime, &dev);
    let mut plan = render::render(bp, templates, &engine, &context)?;
    record::add(&mut plan, bp, &answers)?;
    let mut notes = Vec::new();
    for note in &bp.notes {
        let shown = match &note.when {
            Some(c) => render::holds(&engine, c, &context)?,
            None => true,
        };
        if shown {
            notes.push(note.text.clone());
        }
    }
    Ok(Generated {
        plan,
        answers,
        notes,
    })
}

/// The groups whose condition holds over the answers.
fn included<'a>(engine: &Engine, groups: &'a [Group], context: &Context) -> Result<Vec<&'a Group>> {
    let mut out = Vec::new();
    for group in groups {
        let wanted = match &group.when {
            Some(c) => render::holds(engine, c, context)?,
            None => true,
        };
        if wanted {
            out.push(group);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::{self, Source, DEFAULT_BLUEPRINT};
    use crate::lock::file;

    fn generated(flags: &[&str]) -> Generated {
        let bp = blueprint::load(&Source::Embedded, DEFAULT_BLUEPRINT).unwrap();
        let lock = file::embedded().unwrap();
        let entry = lock.entry_for(&bp).unwrap();
        let mut provided = Provided::default();
        provided.add_flags(&flags.iter().map(|f| f.to_string()).collect::<Vec<_>>());
        generate(&bp, entry, &provided, None).unwrap()
    }

    fn default_project(flags: &[&str]) -> (Plan, Answers) {
        let bp = blueprint::load(&Source::Embedded, DEFAULT_BLUEPRINT).unwrap();
        let lock = file::embedded().unwrap();
        let entry = lock.entry_for(&bp).unwrap();
        let mut provided = Provided::default();
        provided.add_flags(&flags.iter().map(|f| f.to_string()).collect::<Vec<_>>());
        let g = generate(&bp, entry, &provided, None).unwrap();
        (g.plan, g.answers)
    }

    fn text(plan: &Plan, path: &str) -> String {
        String::from_utf8(plan.files()[path].contents.to_vec()).unwrap()
    }

    #[test]
    fn the_plan_holds_every_file_and_the_record_of_each() {
        let (plan, _) = default_project(&[]);
        let record = text(&plan, ".spacegen/answers.toml");
        for path in plan.files().keys().filter(|p| !p.starts_with(".spacegen/")) {
            assert!(
                record.contains(&format!("{path:?} = \"sha256:"))
                    || record.contains(&format!("{path} = \"sha256:")),
                "{path} not recorded"
            );
        }
    }

    #[test]
    fn requirements_carry_the_locked_pins_with_hashes() {
        let (plan, _) = default_project(&[]);
        let reqs = text(&plan, "requirements.txt");
        assert!(reqs.contains("fastapi==0."), "{reqs}");
        assert!(reqs.contains("--hash=sha256:"), "{reqs}");
        assert!(
            !reqs.contains("pytest"),
            "dev pins leaked into requirements.txt"
        );
    }

    #[test]
    fn conditions_decide_which_files_are_planned() {
        let workflow = ".github/workflows/sync-to-hub.yml";
        assert!(!default_project(&[]).0.files().contains_key(workflow));
        assert!(default_project(&["github_sync=true"])
            .0
            .files()
            .contains_key(workflow));
        let update = [
            ".github/workflows/spacegen-update.yml",
            ".github/scripts/spacegen-update.sh",
        ];
        let sync_only = default_project(&["github_sync=true"]).0;
        assert!(update.iter().all(|f| !sync_only.files().contains_key(*f)));
        let weekly = default_project(&["github_update=true"]).0;
        assert!(!weekly.files().contains_key(workflow));
        for file in update {
            assert!(weekly.files().contains_key(file), "{file}");
        }
        assert!(
            weekly.files()[update[1]].executable,
            "the script keeps its executable bit"
        );
    }

    #[test]
    fn optional_dependency_groups_follow_their_condition() {
        let requirements = |flags: &[&str]| text(&default_project(flags).0, "requirements.txt");
        assert!(!requirements(&[]).contains("asyncpg"));
        let with = requirements(&["postgres=true"]);
        assert!(
            with.contains("asyncpg==") && with.contains("--hash=sha256:"),
            "{with}"
        );
    }

    #[test]
    fn notes_are_shown_when_their_condition_holds() {
        assert!(generated(&[])
            .notes
            .iter()
            .any(|n| n.contains("vercel_scope")));
        assert!(generated(&["vercel_scope=acme"]).notes.is_empty());
        assert!(generated(&["vercel_project="]).notes.is_empty());
    }

    #[test]
    fn a_runtime_dependency_that_is_also_a_test_tool_is_pinned_for_the_runtime() {
        // openai needs httpx2 at run time; the test group lists httpx2 too.
        let bp = blueprint::load(&Source::Embedded, "openrouter").unwrap();
        let lock = file::embedded().unwrap();
        let entry = lock.entry_for(&bp).unwrap();
        let plan = generate(&bp, entry, &Provided::default(), None)
            .unwrap()
            .plan;
        let runtime = text(&plan, "requirements.txt");
        let dev = text(&plan, "requirements-dev.txt");
        assert!(runtime.contains("\nhttpx2=="), "{runtime}");
        assert!(!dev.contains("\nhttpx2=="), "pinned twice:\n{dev}");
        assert!(dev.contains("\npytest=="), "{dev}");
        assert!(
            !runtime.contains("asyncpg"),
            "an optional group's package leaked:\n{runtime}"
        );
    }

    #[test]
    fn the_same_answers_give_the_same_plan() {
        assert_eq!(
            default_project(&["title=X"]).0,
            default_project(&["title=X"]).0
        );
    }
}
