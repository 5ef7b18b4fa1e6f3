use super::*;
use proptest::prelude::*;

fn plan_of(files: &[(&str, &str)]) -> Plan {
    let mut plan = Plan::default();
    for (path, text) in files {
        plan.insert(
            (*path).to_owned(),
            PlannedFile {
                contents: Arc::from(text.as_bytes()),
                executable: false,
            },
            "test",
        )
        .expect("a valid path");
    }
    plan
}

fn recorded(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(p, t)| ((*p).to_owned(), sha256(t.as_bytes())))
        .collect()
}

fn disk(files: &[(&str, &str)]) -> BTreeMap<String, Arc<[u8]>> {
    files
        .iter()
        .map(|(p, t)| ((*p).to_owned(), Arc::from(t.as_bytes())))
        .collect()
}

fn text(update: &FileUpdate) -> String {
    update
        .after
        .as_ref()
        .map(|f| String::from_utf8_lossy(&f.contents).into_owned())
        .unwrap_or_default()
}

/// The scenario matrix of the issue, in one project: untouched, clean merge, conflict, a file
/// the user added, one the user deleted, one dropped upstream (untouched and edited), one the
/// new version adds, requirements with the user's own package.
#[test]
fn every_kind_of_file_gets_its_action() {
    let then = [
        ("untouched.py", "a\nb\n"),
        ("merged.py", "one\ntwo\nthree\nfour\nfive\n"),
        ("conflicted.py", "x = 1\n"),
        ("deleted.py", "gone\n"),
        ("dropped.py", "old\n"),
        ("dropped-edited.py", "old\n"),
        (
            "requirements.txt",
            "fastapi==0.1.0 \\\n    --hash=sha256:aa\nuvicorn==0.1.0\n",
        ),
    ];
    let now = [
        ("untouched.py", "a\nb\n"),
        ("merged.py", "one\ntwo (mine)\nthree\nfour\nfive\n"),
        ("conflicted.py", "x = 2\n"),
        ("dropped.py", "old\n"),
        ("dropped-edited.py", "old, and mine\n"),
        (
            "requirements.txt",
            "fastapi==0.1.0 \\\n    --hash=sha256:aa\nuvicorn==0.1.0\nmine==1.0\n",
        ),
        ("user.py", "my own\n"),
    ];
    let next = [
        ("untouched.py", "a\nb\nc\n"),
        ("merged.py", "one\ntwo\nthree\nfour\nfive (new)\n"),
        ("conflicted.py", "x = 3\n"),
        ("deleted.py", "gone, changed\n"),
        ("added.py", "new\n"),
        (
            "requirements.txt",
            "fastapi==0.2.0 \\\n    --hash=sha256:bb\nuvicorn==0.1.0\nhttpx==1.0\n",
        ),
    ];
    let updates = plan(
        &recorded(&then),
        &disk(&now),
        Some(&plan_of(&then)),
        &plan_of(&next),
    );
    let by: BTreeMap<&str, &FileUpdate> = updates.iter().map(|u| (u.path.as_str(), u)).collect();
    assert_eq!(by["untouched.py"].action, Action::Replace);
    assert_eq!(text(by["untouched.py"]), "a\nb\nc\n");
    assert_eq!(by["merged.py"].action, Action::Merge);
    assert_eq!(
        text(by["merged.py"]),
        "one\ntwo (mine)\nthree\nfour\nfive (new)\n"
    );
    assert_eq!(by["conflicted.py"].action, Action::Conflict(vec![1]));
    let conflict = text(by["conflicted.py"]);
    assert!(
        conflict.contains("x = 2") && conflict.contains("x = 3"),
        "{conflict}"
    );
    assert_eq!(by["deleted.py"].action, Action::StaysDeleted);
    assert!(by["deleted.py"].after.is_none());
    assert_eq!(by["dropped.py"].action, Action::Remove);
    assert_eq!(by["dropped-edited.py"].action, Action::KeptEdited);
    assert_eq!(by["added.py"].action, Action::Create);
    assert!(
        !by.contains_key("user.py"),
        "a file the user added is never touched"
    );
    assert_eq!(by["requirements.txt"].action, Action::Merge);
    let requirements = text(by["requirements.txt"]);
    assert!(requirements.starts_with("fastapi==0.2.0"), "{requirements}");
    assert!(requirements.contains("httpx==1.0") && requirements.contains("\nmine==1.0\n"));
    assert!(!requirements.contains("fastapi==0.1.0"), "{requirements}");
}

/// Updating to the version the project already has changes nothing.
#[test]
fn the_same_version_is_a_no_op() {
    let files = [("a.py", "a\n"), ("requirements.txt", "x==1\n")];
    let edited = [
        ("a.py", "a, mine\n"),
        ("requirements.txt", "x==1\nmine==2\n"),
    ];
    let updates = plan(
        &recorded(&files),
        &disk(&edited),
        Some(&plan_of(&files)),
        &plan_of(&files),
    );
    assert!(updates.iter().all(|u| !u.action.writes()), "{updates:?}");
}

/// Without the base, every difference in an edited file is the user's to settle.
#[test]
fn two_way_marks_every_difference_of_an_edited_file() {
    let then = [("a.py", "1\n2\n3\n4\n")];
    let now = [("a.py", "1\n2 mine\n3\n4\n")];
    let next = [("a.py", "1\n2\n3\n4 new\n")];
    let updates = plan(&recorded(&then), &disk(&now), None, &plan_of(&next));
    assert_eq!(updates[0].action, Action::Conflict(vec![2, 8]));
    assert_eq!(
        text(&updates[0]),
        "1\n<<<<<<< ours\n2 mine\n=======\n2\n>>>>>>> theirs\n3\n<<<<<<< ours\n4\n=======\n4 new\n>>>>>>> theirs\n"
    );
    // An untouched file needs no base.
    let updates = plan(&recorded(&then), &disk(&then), None, &plan_of(&next));
    assert_eq!(updates[0].action, Action::Replace);
}

/// A random edit of a numbered text: lines replaced, inserted or deleted, each new line
/// unique (`tag` and a number).
fn edit(lines: &[String], ops: &[(usize, u8)], tag: &str) -> Vec<String> {
    let mut out = lines.to_vec();
    for (n, (at, kind)) in ops.iter().enumerate() {
        if out.is_empty() {
            out.push(format!("{tag}{n}"));
            continue;
        }
        let i = at % out.len();
        match kind % 3 {
            0 => out[i] = format!("{tag}{n}"),
            1 => out.insert(i, format!("{tag}{n}")),
            _ => {
                out.remove(i);
            }
        }
    }
    out
}

proptest! {
    /// No line the user wrote and no line the new version brings is ever lost: each is in the
    /// result, merged or inside a conflict.
    #[test]
    fn no_edit_is_ever_lost(
        size in 0usize..30,
        ours in proptest::collection::vec((0usize..64, 0u8..3), 0..6),
        theirs in proptest::collection::vec((0usize..64, 0u8..3), 0..6),
        base_known in proptest::bool::ANY,
    ) {
        let base: Vec<String> = (0..size).map(|i| format!("line {i}")).collect();
        let join = |lines: &[String]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        let (mine, new) = (edit(&base, &ours, "ours "), edit(&base, &theirs, "theirs "));
        let then = [("f.py", join(&base))];
        let then: Vec<(&str, &str)> = then.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let now = join(&mine);
        let next = join(&new);
        let updates = plan(
            &recorded(&then),
            &disk(&[("f.py", now.as_str())]),
            base_known.then(|| plan_of(&then)).as_ref(),
            &plan_of(&[("f.py", next.as_str())]),
        );
        let result = text(&updates[0]);
        let result_lines: BTreeSet<&str> = result.lines().collect();
        for line in mine.iter().chain(&new).filter(|l| !l.starts_with("line ")) {
            prop_assert!(result_lines.contains(line.as_str()), "{line} lost:\n{result}");
        }
    }
}
