//! The embedded model on llama.cpp, through the `llama-cpp-2` bindings (the cargo feature
//! `llama-cpp`). llama.cpp reads the GGUF file's own tokenizer and maps the weights from the
//! file instead of copying them.

use super::{model_error, Engine, Generation, Limits, Stop, NOT_CHATML};
use crate::AiError;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// Tokens of the prompt read in one step: the deadline is checked between steps.
const PREFILL_CHUNK: usize = 128;

/// One llama.cpp generation at a time in the whole process, whichever model it runs: each uses
/// every core, and ggml's threads wait for each other by spinning, so two generations at once
/// (two models, as in tests) ran many times slower than one after the other.
static RUNNING: Mutex<()> = Mutex::new(());

/// llama.cpp's process-wide state, started once (a second start is an error).
static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();

fn backend() -> Result<&'static LlamaBackend, AiError> {
    BACKEND
        .get_or_init(|| {
            let mut backend = LlamaBackend::init().map_err(|e| e.to_string())?;
            // Its log goes to stderr line by line; Baton reports load errors itself.
            backend.void_logs();
            Ok(backend)
        })
        .as_ref()
        .map_err(|e| AiError::Model(format!("starting llama.cpp: {e}")))
}

fn failed(e: impl std::fmt::Display) -> AiError {
    AiError::Model(format!("running the model: {e}"))
}

/// A model loaded with llama.cpp.
pub(super) struct LlamaCppModel {
    model: LlamaModel,
    /// Tokens that end the assistant's message.
    stop_tokens: Vec<LlamaToken>,
    threads: i32,
}

impl LlamaCppModel {
    /// Loads a GGUF file of a ChatML instruct model; returns it with the model's name.
    pub(super) fn load(path: &Path) -> Result<(LlamaCppModel, String), AiError> {
        let backend = backend()?;
        // llama.cpp reports a missing or unreadable file without the reason.
        std::fs::File::open(path).map_err(|e| model_error(path, e))?;
        let model = LlamaModel::load_from_file(backend, path, &LlamaModelParams::default())
            .map_err(|e| model_error(path, e))?;
        let vocab = model.vocab();
        let single = |text: &str| match vocab.tokenize(text.as_bytes(), false, true).as_slice() {
            [token] => Some(*token),
            _ => None,
        };
        let stop_tokens: Vec<LlamaToken> = ["<|im_end|>", "<|endoftext|>"]
            .iter()
            .filter_map(|t| single(t))
            .collect();
        if single("<|im_start|>").is_none() || stop_tokens.is_empty() {
            return Err(model_error(path, NOT_CHATML));
        }
        let name = model
            .meta_val_str("general.name")
            .or_else(|_| model.meta_val_str("general.architecture"))
            .unwrap_or_default();
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(16) as i32;
        let loaded = LlamaCppModel {
            model,
            stop_tokens,
            threads,
        };
        Ok((loaded, name))
    }
}

impl Engine for LlamaCppModel {
    fn count_tokens(&self, text: &str) -> usize {
        self.model.vocab().tokenize(text.as_bytes(), false, true).len()
    }

    fn generate(
        &self,
        prompt: &str,
        limits: Limits,
        started: Instant,
        generation: &mut Generation,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<(), AiError> {
        let vocab = self.model.vocab();
        let tokens = vocab.tokenize(prompt.as_bytes(), false, true);
        generation.prompt_tokens = tokens.len();
        if tokens.is_empty() {
            return Err(AiError::Model("the prompt is empty".into()));
        }
        let window = tokens.len() + limits.max_tokens + 1;
        if window > self.model.n_ctx_train() as usize {
            return Err(AiError::Model(format!(
                "the prompt ({} tokens) and the reply do not fit the model's context of {} tokens",
                tokens.len(),
                self.model.n_ctx_train()
            )));
        }
        let Some(_running) = super::lock_until(&RUNNING, limits.deadline) else {
            return Ok(());
        };
        // A context per generation: its attention cache is sized to this prompt and reply.
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(window as u32))
            .with_n_batch(PREFILL_CHUNK as u32)
            .with_n_ubatch(PREFILL_CHUNK as u32)
            .with_n_threads(self.threads)
            .with_n_threads_batch(self.threads);
        let mut context = self.model.new_context(backend()?, params).map_err(failed)?;
        let mut batch = LlamaBatch::new(PREFILL_CHUNK, 1);
        let mut position: i32 = 0;
        for piece in tokens.chunks(PREFILL_CHUNK) {
            if Instant::now() >= limits.deadline {
                return Ok(());
            }
            batch.clear();
            for &token in piece {
                let last = position as usize + 1 == tokens.len();
                batch.add(token, position, &[0], last).map_err(failed)?;
                position += 1;
            }
            context.decode(&mut batch).map_err(failed)?;
        }
        let mut sampler = LlamaSampler::greedy();
        let mut bytes: Vec<u8> = Vec::new();
        loop {
            let next = sampler.sample(&context, batch.n_tokens() - 1);
            sampler.accept(next);
            if self.stop_tokens.contains(&next) || vocab.is_eog(next) {
                generation.stop = Stop::End;
                break;
            }
            bytes.extend(vocab.token_to_piece(next, false, None));
            if !generation.wrote_token(String::from_utf8_lossy(&bytes).into_owned(), limits, started, on_text) {
                break;
            }
            batch.clear();
            batch.add(next, position, &[0], true).map_err(failed)?;
            position += 1;
            context.decode(&mut batch).map_err(failed)?;
        }
        Ok(())
    }
}
