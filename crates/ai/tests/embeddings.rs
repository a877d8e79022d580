//! all-MiniLM-L6-v2 in pure Rust: loads from BATON_MINILM_DIR and embeds sensibly.
#![cfg(feature = "embeddings")]

mod common;

use baton_ai::embed::dot;

#[test]
fn minilm_embeds_similar_sentences_close() {
    let Some(model) = common::minilm("minilm_embeds_similar_sentences_close") else {
        return;
    };
    assert_eq!(model.dim(), 384);
    let texts = [
        "How do I reset my password?",
        "I forgot my password and cannot log in",
        "What is the price of overnight shipping?",
        "",
    ];
    let started = std::time::Instant::now();
    let v = model.embed(&texts).expect("embeds");
    eprintln!("4 texts embedded in {:?}", started.elapsed());
    assert_eq!(v.len(), 4);
    for x in &v {
        assert_eq!(x.len(), 384);
        let norm = dot(x, x).sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "{norm}");
    }
    let same = dot(&v[0], &v[1]);
    let other = dot(&v[0], &v[2]);
    assert!(same > 0.5, "{same}");
    assert!(other < 0.3, "{other}");
    assert!(same > other + 0.3);
    // Deterministic, and batching does not change a vector.
    let again = model.embed(&texts[..1]).expect("embeds");
    let d = dot(&again[0], &v[0]);
    assert!(d > 0.9999, "{d}");
}
