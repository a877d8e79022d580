//! The embedded generative model: a small instruct model from a GGUF file (Qwen2 or Llama
//! architecture, quantized), run in-process on the CPU. No server, no key.
//!
//! Two runtimes read the same file: candle (pure Rust, the default build) and llama.cpp (the
//! cargo feature `llama-cpp`, which needs cmake and libclang to build; two to four times as fast
//! at reading a prompt with Qwen2.5-0.5B on the development machine, docs/ai.md). Prompts use
//! the ChatML template that the supported models were trained with. One generation runs at a
//! time; callers queue and give up at their deadline.

mod candle;
#[cfg(feature = "llama-cpp")]
mod llama_cpp;

use crate::prompt::ChatMessage;
use crate::AiError;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

/// Bounds of one generation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// At most this many new tokens.
    pub max_tokens: usize,
    /// Stop when this moment passes (checked before every piece of the prompt and every token).
    pub deadline: Instant,
}

/// Why a generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The model ended its message.
    End,
    MaxTokens,
    /// The deadline passed first; the text is what was written until then.
    Deadline,
}

/// What a generation wrote and what it cost.
#[derive(Debug, Clone)]
pub struct Generation {
    pub text: String,
    pub stop: Stop,
    pub prompt_tokens: usize,
    pub tokens: usize,
    /// From the call to the first new token (waiting for the model included).
    pub first_token: Option<Duration>,
    pub total: Duration,
}

impl Generation {
    /// Counts one more token; `decoded` is the whole reply so far. Tells `on_text` what is new
    /// once the text ends on a whole character (a token can end inside one), and says whether
    /// the limits let the generation go on (setting why it stops when not).
    fn wrote_token(
        &mut self,
        decoded: String,
        limits: Limits,
        started: Instant,
        on_text: &mut dyn FnMut(&str),
    ) -> bool {
        self.tokens += 1;
        self.first_token.get_or_insert_with(|| started.elapsed());
        if !decoded.ends_with('\u{FFFD}') && decoded.len() > self.text.len() {
            if let Some(delta) = decoded.get(self.text.len()..) {
                on_text(delta);
            }
            self.text = decoded;
        }
        if self.tokens >= limits.max_tokens {
            self.stop = Stop::MaxTokens;
            return false;
        }
        if Instant::now() >= limits.deadline {
            self.stop = Stop::Deadline;
            return false;
        }
        true
    }
}

/// What runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// candle's quantized models, pure Rust.
    Candle,
    /// llama.cpp (built with the cargo feature `llama-cpp`).
    LlamaCpp,
}

impl Runtime {
    /// llama.cpp when this build has it, else candle.
    pub fn best_available() -> Runtime {
        if cfg!(feature = "llama-cpp") {
            Runtime::LlamaCpp
        } else {
            Runtime::Candle
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Runtime::Candle => "candle",
            Runtime::LlamaCpp => "llama.cpp",
        }
    }
}

/// What a runtime does with a loaded model; `LocalModel` adds the prompt, the clock and the
/// runtime's name.
trait Engine: Send + Sync {
    fn count_tokens(&self, text: &str) -> usize;

    /// Writes the reply to `prompt` into `generation`, greedily, from `started` on.
    fn generate(
        &self,
        prompt: &str,
        limits: Limits,
        started: Instant,
        generation: &mut Generation,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<(), AiError>;
}

/// A loaded model. Cheap to share behind an `Arc`; generations run one at a time.
pub struct LocalModel {
    id: String,
    runtime: Runtime,
    engine: Box<dyn Engine>,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("id", &self.id)
            .field("runtime", &self.runtime)
            .finish()
    }
}

fn model_error(path: &Path, e: impl std::fmt::Display) -> AiError {
    AiError::Model(format!("{}: {e}", path.display()))
}

const NOT_CHATML: &str =
    "the model has no ChatML tokens (<|im_start|>, <|im_end|>): only chat models trained with ChatML are supported";

impl LocalModel {
    /// Loads a GGUF file of a Qwen2 or Llama instruct model with a byte-level BPE vocabulary,
    /// on the best runtime this build has.
    pub fn load(path: &Path) -> Result<LocalModel, AiError> {
        LocalModel::load_on(path, Runtime::best_available())
    }

    /// Loads the model on the given runtime (an error when this build does not have it).
    pub fn load_on(path: &Path, runtime: Runtime) -> Result<LocalModel, AiError> {
        let (engine, id): (Box<dyn Engine>, String) = match runtime {
            Runtime::Candle => {
                let (model, id) = candle::CandleModel::load(path)?;
                (Box::new(model), id)
            }
            #[cfg(feature = "llama-cpp")]
            Runtime::LlamaCpp => {
                let (model, id) = llama_cpp::LlamaCppModel::load(path)?;
                (Box::new(model), id)
            }
            #[cfg(not(feature = "llama-cpp"))]
            Runtime::LlamaCpp => {
                return Err(model_error(
                    path,
                    "this build has no llama.cpp (build with the cargo feature llama-cpp)",
                ))
            }
        };
        Ok(LocalModel { id, runtime, engine })
    }

    /// The model's name (from the file).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What runs it.
    pub fn runtime(&self) -> Runtime {
        self.runtime
    }

    /// The prompt's length in tokens.
    pub fn count_tokens(&self, text: &str) -> usize {
        self.engine.count_tokens(text)
    }

    /// Writes the assistant's reply to `messages`, greedily, telling each new piece of text to
    /// `on_text` as it is decoded.
    pub fn generate(
        &self,
        messages: &[ChatMessage],
        limits: Limits,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Generation, AiError> {
        let started = Instant::now();
        let prompt = chatml(messages);
        let mut generation = Generation {
            text: String::new(),
            stop: Stop::Deadline,
            prompt_tokens: 0,
            tokens: 0,
            first_token: None,
            total: Duration::ZERO,
        };
        self.engine
            .generate(&prompt, limits, started, &mut generation, on_text)?;
        generation.total = started.elapsed();
        Ok(generation)
    }
}

/// Waits for the model, but not past the deadline (another generation may hold it).
fn lock_until<T>(model: &Mutex<T>, deadline: Instant) -> Option<MutexGuard<'_, T>> {
    loop {
        match model.try_lock() {
            Ok(guard) => return Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => return Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => {
                if Instant::now() >= deadline {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// The ChatML prompt ending where the assistant's reply starts.
pub fn chatml(messages: &[ChatMessage]) -> String {
    let mut prompt = String::new();
    for m in messages {
        let role = m.speaker.role();
        // A message cannot open or close a turn of its own.
        let text = m.text.replace("<|im_start|>", "").replace("<|im_end|>", "");
        prompt.push_str("<|im_start|>");
        prompt.push_str(role);
        prompt.push('\n');
        prompt.push_str(text.trim());
        prompt.push_str("<|im_end|>\n");
    }
    prompt.push_str("<|im_start|>assistant\n");
    prompt
}
