//! Sentence embeddings: a trait, and (with the `embeddings` feature) all-MiniLM-L6-v2 run in
//! pure Rust with candle (the BERT encoder is in `bert.rs`), loaded from a directory holding `config.json`, `tokenizer.json` and
//! `model.safetensors`.

use crate::AiError;

/// Turns texts into unit-length vectors; similar meaning → high dot product.
pub trait Embedder: Send + Sync {
    /// A name for the model (part of cache keys).
    fn id(&self) -> &str;
    /// Vector length.
    fn dim(&self) -> usize;
    /// One L2-normalised vector per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, AiError>;
}

/// Dot product of two vectors (cosine for unit vectors).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Scales a vector to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// The environment variable naming the all-MiniLM-L6-v2 directory for tests and the CLI.
pub const MINILM_DIR_ENV: &str = "BATON_MINILM_DIR";

#[cfg(feature = "embeddings")]
pub use minilm::MiniLm;

#[cfg(feature = "embeddings")]
mod minilm {
    use super::{normalize, Embedder};
    use crate::bert::{Bert, BertConfig};
    use crate::AiError;
    use candle_core::{DType, Device, Tensor};
    use candle_nn::VarBuilder;
    use std::path::Path;
    use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

    /// Longest input in tokens (the model was trained on 256 at most).
    const MAX_TOKENS: usize = 256;
    /// Texts embedded per forward pass.
    const BATCH: usize = 32;

    /// all-MiniLM-L6-v2 (or another BERT sentence encoder with mean pooling) on the CPU.
    pub struct MiniLm {
        model: Bert,
        tokenizer: Tokenizer,
        device: Device,
        dim: usize,
        id: String,
    }

    impl MiniLm {
        /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`.
        pub fn load(dir: &Path) -> Result<MiniLm, AiError> {
            let device = Device::Cpu;
            let config_path = dir.join("config.json");
            let config_text = std::fs::read_to_string(&config_path).map_err(|e| AiError::io(&config_path, e))?;
            let config: BertConfig =
                serde_json::from_str(&config_text).map_err(|e| AiError::format(&config_path, e))?;
            let dim = config.hidden_size;
            let tokenizer_path = dir.join("tokenizer.json");
            let mut tokenizer =
                Tokenizer::from_file(&tokenizer_path).map_err(|e| AiError::format(&tokenizer_path, e))?;
            tokenizer.with_padding(Some(PaddingParams {
                strategy: PaddingStrategy::BatchLongest,
                ..Default::default()
            }));
            tokenizer
                .with_truncation(Some(TruncationParams {
                    max_length: MAX_TOKENS,
                    ..Default::default()
                }))
                .map_err(|e| AiError::format(&tokenizer_path, e))?;
            let weights = dir.join("model.safetensors");
            if !weights.is_file() {
                return Err(AiError::io(&weights, "missing"));
            }
            // SAFETY-free path: read the file into memory rather than memory-mapping it.
            let bytes = std::fs::read(&weights).map_err(|e| AiError::io(&weights, e))?;
            let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device)
                .map_err(|e| AiError::format(&weights, e))?;
            let model = Bert::load(vb, &config).map_err(|e| AiError::format(&weights, e))?;
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| "minilm".into());
            Ok(MiniLm {
                model,
                tokenizer,
                device,
                dim,
                id: format!("bert:{name}:{dim}"),
            })
        }

        fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, candle_core::Error> {
            let inputs: Vec<String> = texts
                .iter()
                .map(|t| t.chars().take(crate::text::MAX_TEXT_CHARS).collect())
                .collect();
            let encodings = self
                .tokenizer
                .encode_batch(inputs, true)
                .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
            let n = encodings.len();
            let len = encodings.first().map_or(0, |e| e.get_ids().len());
            let mut ids = Vec::with_capacity(n * len);
            let mut mask = Vec::with_capacity(n * len);
            for e in &encodings {
                ids.extend(e.get_ids().iter().copied());
                mask.extend(e.get_attention_mask().iter().copied());
            }
            let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
            let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
            let hidden = self.model.forward(&ids, &mask)?; // (n, len, dim)
            let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (n, len, 1)
            let summed = hidden.broadcast_mul(&m)?.sum(1)?; // (n, dim)
            let counts = m.sum(1)?.clamp(1e-9, f64::MAX)?; // (n, 1)
            let mean = summed.broadcast_div(&counts)?;
            let mut out: Vec<Vec<f32>> = mean.to_vec2()?;
            out.iter_mut().for_each(|v| normalize(v));
            Ok(out)
        }
    }

    impl Embedder for MiniLm {
        fn id(&self) -> &str {
            &self.id
        }

        fn dim(&self) -> usize {
            self.dim
        }

        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, AiError> {
            let mut out = Vec::with_capacity(texts.len());
            // Similar lengths together: less padding per batch.
            let mut order: Vec<usize> = (0..texts.len()).collect();
            order.sort_by_key(|&i| texts[i].len());
            let mut results: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
            for group in order.chunks(BATCH) {
                let batch: Vec<&str> = group.iter().map(|&i| texts[i]).collect();
                let vectors = self
                    .embed_batch(&batch)
                    .map_err(|e| AiError::Embedding(e.to_string()))?;
                for (&i, v) in group.iter().zip(vectors) {
                    results[i] = Some(v);
                }
            }
            for r in results {
                out.push(r.ok_or_else(|| AiError::Embedding("missing vector".into()))?);
            }
            Ok(out)
        }
    }
}
