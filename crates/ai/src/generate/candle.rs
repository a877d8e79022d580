//! The embedded model on candle's quantized Qwen2 and Llama models: pure Rust, so the build
//! needs nothing besides Rust. The tokenizer is built from the GGUF file's own metadata (its
//! byte-level BPE vocabulary and merges), so the one file is all a model needs.

use super::{model_error, Engine, Generation, Limits, Stop};
use crate::qwen2::Qwen2;
use crate::AiError;
use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use candle_transformers::generation::LogitsProcessor;
use candle_transformers::models::quantized_llama;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, PreTokenizerWrapper, SplitDelimiterBehavior, Tokenizer};

/// Qwen2's pre-tokenizer pattern (from its tokenizer.json): words, single digits, punctuation
/// runs, newlines, spaces.
const QWEN2_SPLIT: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Tokens of the prompt read in one step (see `CandleModel::generate`).
const PREFILL_CHUNK: usize = 64;

enum Weights {
    Qwen2(Qwen2),
    Llama(quantized_llama::ModelWeights),
}

impl Weights {
    fn forward(&mut self, input: &Tensor, position: usize) -> candle_core::Result<Tensor> {
        match self {
            Weights::Qwen2(m) => m.forward(input, position),
            Weights::Llama(m) => m.forward(input, position),
        }
    }
}

/// A model loaded with candle.
pub(super) struct CandleModel {
    weights: Mutex<Weights>,
    tokenizer: Tokenizer,
    /// Tokens that end the assistant's message.
    stop_tokens: Vec<u32>,
    device: Device,
}

impl CandleModel {
    /// Loads a GGUF file of a Qwen2 or Llama instruct model with a byte-level BPE vocabulary;
    /// returns it with the model's name.
    pub(super) fn load(path: &Path) -> Result<(CandleModel, String), AiError> {
        let mut file = std::fs::File::open(path).map_err(|e| model_error(path, e))?;
        let content = gguf_file::Content::read(&mut file).map_err(|e| model_error(path, e))?;
        let text =
            |key: &str| -> Option<String> { content.metadata.get(key).and_then(|v| v.to_string().ok()).cloned() };
        let architecture = text("general.architecture").unwrap_or_default();
        let name = text("general.name").unwrap_or_else(|| architecture.clone());
        let pre = text("tokenizer.ggml.pre").unwrap_or_default();
        let (tokenizer, vocab) = tokenizer_from_gguf(&content, &pre).map_err(|e| model_error(path, e))?;
        let stop_tokens: Vec<u32> = ["<|im_end|>", "<|endoftext|>"]
            .iter()
            .filter_map(|t| vocab.get(*t).copied())
            .collect();
        if !vocab.contains_key("<|im_start|>") || stop_tokens.is_empty() {
            return Err(model_error(path, super::NOT_CHATML));
        }
        let device = Device::Cpu;
        let slow = content
            .tensor_infos
            .values()
            .any(|t| SLOW_TYPES.contains(&t.ggml_dtype));
        let weights = if slow {
            let bytes = requantized(&content, &mut file).map_err(|e| model_error(path, e))?;
            let mut reader = std::io::Cursor::new(bytes);
            let content = gguf_file::Content::read(&mut reader).map_err(|e| model_error(path, e))?;
            load_weights(&architecture, content, &mut reader, &device)
        } else {
            load_weights(&architecture, content, &mut file, &device)
        }
        .map_err(|e| model_error(path, e))?;
        let model = CandleModel {
            weights: Mutex::new(weights),
            tokenizer,
            stop_tokens,
            device,
        };
        Ok((model, name))
    }
}

impl Engine for CandleModel {
    fn count_tokens(&self, text: &str) -> usize {
        self.tokenizer
            .encode(text, false)
            .map(|e| e.get_ids().len())
            .unwrap_or(0)
    }

    fn generate(
        &self,
        prompt: &str,
        limits: Limits,
        started: Instant,
        generation: &mut Generation,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<(), AiError> {
        let encoding = self
            .tokenizer
            .encode(prompt, false)
            .map_err(|e| AiError::Model(format!("tokenizing the prompt: {e}")))?;
        let prompt_ids = encoding.get_ids().to_vec();
        generation.prompt_tokens = prompt_ids.len();
        let Some(mut weights) = super::lock_until(&self.weights, limits.deadline) else {
            return Ok(());
        };
        let failed = |e: candle_core::Error| AiError::Model(format!("running the model: {e}"));
        let mut sampler = LogitsProcessor::new(0, None, None);
        // The prompt goes in in pieces of PREFILL_CHUNK tokens: the deadline is checked between
        // them, and candle's Llama, which keeps an attention mask for every (piece length,
        // position) it has seen, keeps few and small ones.
        let mut position = 0;
        let mut logits = None;
        for piece in prompt_ids.chunks(PREFILL_CHUNK) {
            if Instant::now() >= limits.deadline {
                return Ok(());
            }
            let input = Tensor::new(piece, &self.device)
                .and_then(|t| t.unsqueeze(0))
                .map_err(failed)?;
            logits = Some(weights.forward(&input, position).map_err(failed)?);
            position += piece.len();
        }
        let Some(mut logits) = logits else {
            return Err(AiError::Model("the prompt is empty".into()));
        };
        let mut ids: Vec<u32> = Vec::new();
        loop {
            let logits_1d = logits.squeeze(0).map_err(failed)?;
            let next = sampler.sample(&logits_1d).map_err(failed)?;
            if self.stop_tokens.contains(&next) {
                generation.stop = Stop::End;
                break;
            }
            ids.push(next);
            // Byte-level tokens can split a character: the whole reply is decoded each time.
            let decoded = self
                .tokenizer
                .decode(&ids, true)
                .map_err(|e| AiError::Model(format!("decoding: {e}")))?;
            if !generation.wrote_token(decoded, limits, started, on_text) {
                break;
            }
            let input = Tensor::new(&[next], &self.device)
                .and_then(|t| t.unsqueeze(0))
                .map_err(failed)?;
            logits = weights.forward(&input, position).map_err(failed)?;
            position += 1;
        }
        Ok(())
    }
}

/// Quantization types candle has no vectorised kernels for: their tensors are turned into
/// Q8_0 at load (Qwen2.5-0.5B's Q5_0 layers ran ~10× slower than Q8_0 ones).
const SLOW_TYPES: [GgmlDType; 4] = [GgmlDType::Q4_1, GgmlDType::Q5_0, GgmlDType::Q5_1, GgmlDType::Q8_1];

/// The GGUF file again, in memory, with the tensors of [`SLOW_TYPES`] as Q8_0.
fn requantized(content: &gguf_file::Content, file: &mut std::fs::File) -> candle_core::Result<Vec<u8>> {
    let mut tensors = Vec::with_capacity(content.tensor_infos.len());
    for name in content.tensor_infos.keys() {
        let tensor = content.tensor(file, name, &Device::Cpu)?;
        let tensor = if SLOW_TYPES.contains(&tensor.dtype()) {
            QTensor::quantize(&tensor.dequantize(&Device::Cpu)?, GgmlDType::Q8_0)?
        } else {
            tensor
        };
        tensors.push((name.as_str(), tensor));
    }
    let metadata: Vec<(&str, &gguf_file::Value)> = content.metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
    let mut out = std::io::Cursor::new(Vec::new());
    gguf_file::write(&mut out, &metadata, &tensor_refs)?;
    Ok(out.into_inner())
}

fn load_weights<R: std::io::Read + std::io::Seek>(
    architecture: &str,
    content: gguf_file::Content,
    reader: &mut R,
    device: &Device,
) -> Result<Weights, String> {
    match architecture {
        "qwen2" => Qwen2::from_gguf(content, reader, device)
            .map(Weights::Qwen2)
            .map_err(|e| e.to_string()),
        "llama" => quantized_llama::ModelWeights::from_gguf(content, reader, device)
            .map(Weights::Llama)
            .map_err(|e| e.to_string()),
        other => Err(format!("architecture '{other}' is not supported (qwen2, llama)")),
    }
}

/// A byte-level BPE tokenizer from the GGUF metadata (`tokenizer.ggml.*`), with the control
/// tokens as special tokens. Returns it with the vocabulary.
fn tokenizer_from_gguf(content: &gguf_file::Content, pre: &str) -> Result<(Tokenizer, HashMap<String, u32>), String> {
    let get = |key: &str| content.metadata.get(key).ok_or(format!("no {key} in the file"));
    let kind = get("tokenizer.ggml.model")?.to_string().map_err(|e| e.to_string())?;
    if kind != "gpt2" {
        return Err(format!(
            "tokenizer '{kind}' is not supported (a byte-level BPE, 'gpt2', is)"
        ));
    }
    let tokens = get("tokenizer.ggml.tokens")?.to_vec().map_err(|e| e.to_string())?;
    let mut vocab: HashMap<String, u32> = HashMap::with_capacity(tokens.len());
    for (i, t) in tokens.iter().enumerate() {
        let t = t.to_string().map_err(|e| e.to_string())?;
        vocab.insert(t.clone(), i as u32);
    }
    let mut merges = Vec::new();
    for m in get("tokenizer.ggml.merges")?.to_vec().map_err(|e| e.to_string())? {
        let m = m.to_string().map_err(|e| e.to_string())?;
        if let Some((a, b)) = m.split_once(' ') {
            merges.push((a.to_string(), b.to_string()));
        }
    }
    // Token types: 3 = control (<|im_start|>…), 4 = user-defined; both are matched whole.
    let types: Vec<i32> = match content.metadata.get("tokenizer.ggml.token_type") {
        Some(v) => v
            .to_vec()
            .map_err(|e| e.to_string())?
            .iter()
            .map(|t| t.to_i32().unwrap_or(1))
            .collect(),
        None => Vec::new(),
    };
    let specials: Vec<AddedToken> = tokens
        .iter()
        .enumerate()
        .filter(|(i, _)| matches!(types.get(*i), Some(3) | Some(4)))
        .filter_map(|(_, t)| t.to_string().ok())
        .map(|t| AddedToken::from(t.clone(), true))
        .collect();
    let bpe = BPE::builder()
        .vocab_and_merges(vocab.iter().map(|(t, i)| (t.clone(), *i)).collect::<Vocab>(), merges)
        .build()
        .map_err(|e| e.to_string())?;
    let mut tokenizer = Tokenizer::new(bpe);
    let pre_tokenizer: PreTokenizerWrapper = if pre.starts_with("qwen") {
        let split = Split::new(
            SplitPattern::Regex(QWEN2_SPLIT.into()),
            SplitDelimiterBehavior::Isolated,
            false,
        )
        .map_err(|e| e.to_string())?;
        Sequence::new(vec![split.into(), ByteLevel::new(false, false, false).into()]).into()
    } else {
        // SmolLM and other GPT-2-style vocabularies: digits one by one, then GPT-2's split.
        Sequence::new(vec![
            Digits::new(true).into(),
            ByteLevel::new(false, false, true).into(),
        ])
        .into()
    };
    tokenizer.with_pre_tokenizer(Some(pre_tokenizer));
    tokenizer.with_decoder(Some(ByteLevel::default()));
    tokenizer.add_special_tokens(specials).map_err(|e| e.to_string())?;
    Ok((tokenizer, vocab))
}
