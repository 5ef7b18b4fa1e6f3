//! Resolver speed: the shipped blueprints (milliseconds at most) and a synthetic matrix of
//! 60 packages × 40 versions × 500 rules. Run with `cargo bench --bench resolve`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::str::FromStr;

use criterion::{criterion_group, criterion_main, Criterion};
use pep440_rs::{Version, VersionSpecifiers};
use spacegen::{
    load_blueprint, request, resolve, Condition, Effect, Kind, Matrix, Request, Requirement, Rule,
    Source,
};

/// A deterministic pseudo-random sequence (an LCG), so every run benchmarks the same matrix.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % bound as u64) as usize
    }
}

fn spec(s: &str) -> VersionSpecifiers {
    VersionSpecifiers::from_str(s).expect("valid specifier")
}

/// 60 packages with 40 versions each and 500 rules: 400 "needs at least", 100 "breaks with".
fn synthetic() -> (Matrix, Request) {
    let (packages, versions, rules) = (60, 40, 500);
    let mut rng = Lcg(42);
    let name = |i: usize| format!("pkg{i:02}");
    let mut matrix = Matrix {
        python: Version::from_str("3.11").expect("version"),
        packages: BTreeMap::new(),
        rules: Vec::new(),
        declared: BTreeMap::new(),
    };
    for p in 0..packages {
        let vs = (0..versions)
            .map(|v| Version::from_str(&format!("1.{v}.0")).expect("version"))
            .collect();
        matrix.packages.insert(name(p), vs);
    }
    for r in 0..rules {
        let a = rng.next(packages);
        let mut b = rng.next(packages);
        if b == a {
            b = (b + 1) % packages;
        }
        let from = rng.next(versions);
        let to = rng.next(versions);
        let condition = Condition::Package {
            name: name(a),
            versions: spec(&format!(">=1.{from}.0")),
        };
        let effect = if r % 5 == 0 {
            Effect::Forbids {
                name: name(b),
                versions: spec(&format!(">=1.{}.0", versions - 1 - to / 4)),
            }
        } else {
            Effect::Requires {
                name: name(b),
                versions: spec(&format!(">=1.{}.0", to / 2)),
            }
        };
        matrix.rules.push(Rule {
            id: format!("rule-{r}"),
            condition,
            effect,
            reason: "synthetic".into(),
            evidence: "none".into(),
        });
    }
    let requested = (0..packages)
        .map(|p| Requirement {
            name: name(p),
            extras: vec![],
            versions: VersionSpecifiers::empty(),
        })
        .collect();
    let request = Request {
        blueprint: "synthetic".into(),
        requested,
        uses: vec![],
        preferred: BTreeMap::new(),
    };
    (matrix, request)
}

fn bench(c: &mut Criterion) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../blueprints");
    let matrix = Matrix::read(std::path::Path::new(dir)).expect("matrix");
    let source = Source::Embedded;
    for name in source.names().expect("names") {
        let bp = load_blueprint(&source, &name).expect("blueprint");
        if bp.kind == Kind::Layer {
            continue;
        }
        let request = request(&bp, BTreeMap::new());
        c.bench_function(&format!("resolve {name}"), |b| {
            b.iter(|| resolve(black_box(&matrix), black_box(&request)).expect("resolves"))
        });
    }
    let (matrix, request) = synthetic();
    let outcome = resolve(&matrix, &request);
    eprintln!(
        "synthetic 60x40x500: {}",
        match &outcome {
            Ok(r) => format!("resolved, {} rules applied", r.rules.len()),
            Err(_) => "no solution (explained)".to_owned(),
        }
    );
    c.bench_function(
        "resolve synthetic 60 packages x 40 versions x 500 rules",
        |b| {
            b.iter(|| {
                let _ = black_box(resolve(black_box(&matrix), black_box(&request)));
            })
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
