//! Shared by the integration tests: finding the embedding model and the shared data.
#![allow(dead_code)]

use std::path::PathBuf;

/// True in CI, where a missing model or data set fails the test instead of skipping it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The all-MiniLM-L6-v2 directory from BATON_MINILM_DIR; None (with a message) outside CI
/// when it is not set; a panic in CI.
pub fn minilm_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os(baton_ai::embed::MINILM_DIR_ENV).map(PathBuf::from);
    match dir {
        Some(d) if d.join("model.safetensors").is_file() => Some(d),
        other => {
            let why = match other {
                Some(d) => format!("{} has no model.safetensors", d.display()),
                None => "BATON_MINILM_DIR is not set".to_string(),
            };
            if in_ci() {
                panic!("{test}: the embedding model is needed in CI: {why} (scripts/fetch-minilm.sh fetches it)");
            }
            eprintln!("{test}: skipped: {why}; run `export BATON_MINILM_DIR=$(scripts/fetch-minilm.sh)`");
            None
        }
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[cfg(feature = "embeddings")]
pub fn minilm(test: &str) -> Option<std::sync::Arc<dyn baton_ai::Embedder>> {
    let dir = minilm_dir(test)?;
    match baton_ai::embed::MiniLm::load(&dir) {
        Ok(m) => Some(std::sync::Arc::new(m)),
        Err(e) => panic!("{test}: cannot load {}: {e}", dir.display()),
    }
}

/// The GGUF model file from BATON_TEST_MODEL (CI fetches SmolLM2-135M with
/// `scripts/fetch-model.sh smollm2-135m`); None (with a message) outside CI when it is not set;
/// a panic in CI.
pub fn model_file(test: &str) -> Option<PathBuf> {
    match std::env::var_os("BATON_TEST_MODEL").map(PathBuf::from) {
        Some(f) if f.is_file() => Some(f),
        other => {
            let why = match other {
                Some(f) => format!("{} is not a file", f.display()),
                None => "BATON_TEST_MODEL is not set".to_string(),
            };
            if in_ci() {
                panic!("{test}: the language model is needed in CI: {why} (scripts/fetch-model.sh smollm2-135m fetches one)");
            }
            eprintln!("{test}: skipped: {why}; run `export BATON_TEST_MODEL=$(scripts/fetch-model.sh smollm2-135m)`");
            None
        }
    }
}
