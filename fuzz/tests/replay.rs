//! Every committed corpus input and every regression (an input a fuzz run once failed on,
//! kept with the fix) through its target, without the fuzzer: the regressions must pass now,
//! and the corpus stays clean.

use std::path::Path;

#[test]
fn every_corpus_and_regression_input_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ran = 0;
    for (name, run) in infersteer_fuzz::TARGETS {
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for e in entries {
                let path = e.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let r = std::panic::catch_unwind(|| run(&data));
                assert!(r.is_ok(), "{name}: {} fails", path.display());
                ran += 1;
            }
        }
    }
    // The regressions alone are a dozen; the seeds more.
    assert!(ran > 50, "only {ran} inputs found");
    eprintln!("replayed {ran} inputs");
}
