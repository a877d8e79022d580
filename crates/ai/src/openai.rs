//! A provider for any OpenAI-compatible chat-completions endpoint (OpenAI, Azure OpenAI's
//! compatible endpoint, Ollama, llama.cpp's server, vLLM, …), configured per workspace with a
//! base URL, a model and an optional key.
//!
//! Classify, extract and sentiment ask for JSON that follows a schema
//! (`response_format: {"type": "json_schema", …}`; `json_object` or plain prompting for servers
//! without it). Let AI Answer retrieves passages from the local knowledge base, asks the model
//! to answer from them only and to say "I don't know" otherwise (→ `unanswered`), and can stream
//! the answer's text. Timeouts, connection errors, 429 and 5xx are retried with backoff; what
//! still fails comes back as `AiOutcome::Failed { reason }`.

use crate::answer::follow_up_context;
use crate::kb::Query;
use crate::prompt::{self, cited_sources, is_dont_know, strip_citations, AnswerFilter, ChatMessage};
use crate::{extract, intent, AiContext, AiError, AiProvider};
use baton_flow::document::{Category, ExtractField, ExtractKind};
use baton_flow::runtime::{AiOutcome, AiQuery, AiRequest, AnswerIntent};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// How to ask for JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutput {
    /// `response_format: {"type": "json_schema", "json_schema": {…, "strict": true}}`.
    #[default]
    JsonSchema,
    /// `response_format: {"type": "json_object"}` with the schema in the prompt.
    JsonObject,
    /// The schema in the prompt only.
    Prompt,
}

fn default_timeout_ms() -> u64 {
    30_000
}

fn default_retries() -> u32 {
    2
}

fn default_backoff_ms() -> u64 {
    500
}

/// A workspace's model endpoint.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenAiConfig {
    /// Up to and including the API version: `https://api.openai.com/v1`,
    /// `http://localhost:11434/v1` (Ollama), `http://localhost:8080/v1` (llama.cpp, vLLM).
    pub base_url: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// Per attempt, until the whole response has arrived.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Further attempts after a timeout, a connection error, 429 or 5xx.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// First wait between attempts; doubled each time (at most 8 s; `Retry-After` wins).
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
    #[serde(default)]
    pub structured_output: StructuredOutput,
    /// Passages given to the model for an answer.
    #[serde(default = "default_passages")]
    pub passages: usize,
    /// Below this retrieval confidence the question is `unanswered` without asking the model.
    #[serde(default = "default_min_retrieval")]
    pub min_retrieval: f64,
}

fn default_passages() -> usize {
    4
}

fn default_min_retrieval() -> f64 {
    0.25
}

impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "…"))
            .field("timeout_ms", &self.timeout_ms)
            .field("retries", &self.retries)
            .field("structured_output", &self.structured_output)
            .finish()
    }
}

impl OpenAiConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> OpenAiConfig {
        OpenAiConfig {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            timeout_ms: default_timeout_ms(),
            retries: default_retries(),
            backoff_ms: default_backoff_ms(),
            structured_output: StructuredOutput::default(),
            passages: default_passages(),
            min_retrieval: default_min_retrieval(),
        }
    }

    pub fn with_api_key(mut self, key: impl Into<String>) -> OpenAiConfig {
        self.api_key = Some(key.into());
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> OpenAiConfig {
        self.timeout_ms = timeout.as_millis().min(u128::from(u64::MAX)) as u64;
        self
    }

    pub fn with_retries(mut self, retries: u32, backoff: Duration) -> OpenAiConfig {
        self.retries = retries;
        self.backoff_ms = backoff.as_millis().min(u128::from(u64::MAX)) as u64;
        self
    }

    /// `{base_url}/chat/completions`.
    pub fn endpoint(&self) -> String {
        format!("{}/chat/completions", self.base_url.trim_end_matches('/'))
    }
}

/// Chat messages as the API takes them.
fn chat_json(messages: &[ChatMessage]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| json!({"role": m.speaker.role(), "content": m.text}))
        .collect()
}

/// The provider.
#[derive(Clone)]
pub struct OpenAiCompatible {
    config: OpenAiConfig,
    client: reqwest::Client,
}

impl std::fmt::Debug for OpenAiCompatible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiCompatible")
            .field("config", &self.config)
            .finish()
    }
}

/// Why an attempt failed, and whether another may succeed.
struct Failure {
    reason: String,
    retry: bool,
    retry_after: Option<Duration>,
}

impl OpenAiCompatible {
    pub fn new(config: OpenAiConfig) -> Result<OpenAiCompatible, AiError> {
        OpenAiCompatible::with_http(config, reqwest::Client::builder())
    }

    /// Like [`OpenAiCompatible::new`], on an HTTP client built from `http` (a server passes one
    /// that refuses the addresses its operator forbids); the timeouts are set here.
    pub fn with_http(config: OpenAiConfig, http: reqwest::ClientBuilder) -> Result<OpenAiCompatible, AiError> {
        let url = config.base_url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(AiError::Config(format!(
                "base URL `{url}` must start with http:// or https://"
            )));
        }
        if config.model.trim().is_empty() {
            return Err(AiError::Config("the model is empty".into()));
        }
        let client = http
            .timeout(Duration::from_millis(config.timeout_ms.max(1)))
            .connect_timeout(Duration::from_millis(config.timeout_ms.clamp(1, 10_000)))
            .build()
            .map_err(|e| AiError::Config(e.to_string()))?;
        Ok(OpenAiCompatible { config, client })
    }

    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// Checks that the endpoint answers: one tiny completion, no retries. The reply's text, or
    /// why there was none (the same sentences a failed request gives).
    pub async fn check(&self) -> Result<String, String> {
        let body = json!({
            "model": self.config.model,
            "messages": [{"role": "user", "content": "Reply with the word OK."}],
            "temperature": 0,
            "max_tokens": 5,
        });
        self.attempt(&body).await.map_err(|f| f.reason)
    }

    fn response_format(&self, name: &str, schema: &Value) -> Option<Value> {
        match self.config.structured_output {
            StructuredOutput::JsonSchema => Some(json!({
                "type": "json_schema",
                "json_schema": {"name": name, "strict": true, "schema": schema}
            })),
            StructuredOutput::JsonObject => Some(json!({"type": "json_object"})),
            StructuredOutput::Prompt => None,
        }
    }

    /// Asks for JSON following `schema`; the parsed object.
    async fn structured(&self, name: &str, system: String, user: String, schema: Value) -> Result<Value, String> {
        let system = if self.config.structured_output == StructuredOutput::JsonSchema {
            system
        } else {
            format!("{system}\nReply with one JSON object that follows this JSON Schema, and nothing else:\n{schema}")
        };
        let mut body = json!({
            "model": self.config.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "temperature": 0,
        });
        if let (Some(format), Some(obj)) = (self.response_format(name, &schema), body.as_object_mut()) {
            obj.insert("response_format".into(), format);
        }
        let content = self.complete(&body).await?;
        parse_json_content(&content).ok_or_else(|| format!("the model's reply is not JSON: {}", snippet(&content)))
    }

    /// One non-streamed completion with retries: the message content.
    async fn complete(&self, body: &Value) -> Result<String, String> {
        let mut attempt = 0;
        loop {
            match self.attempt(body).await {
                Ok(text) => return Ok(text),
                Err(f) => {
                    if !f.retry || attempt >= self.config.retries {
                        return Err(self.give_up(f, attempt));
                    }
                    tokio::time::sleep(self.backoff(attempt, f.retry_after)).await;
                    attempt += 1;
                }
            }
        }
    }

    fn give_up(&self, f: Failure, attempt: u32) -> String {
        if attempt == 0 {
            f.reason
        } else {
            format!("{} (after {} attempts)", f.reason, attempt + 1)
        }
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(d) = retry_after {
            return d.min(Duration::from_secs(10));
        }
        let ms = self
            .config
            .backoff_ms
            .saturating_mul(1u64 << attempt.min(10))
            .min(8_000);
        Duration::from_millis(ms)
    }

    fn request(&self, body: &Value) -> reqwest::RequestBuilder {
        let mut req = self.client.post(self.config.endpoint()).json(body);
        if let Some(key) = self.config.api_key.as_deref().filter(|k| !k.is_empty()) {
            req = req.bearer_auth(key);
        }
        req
    }

    async fn send(&self, body: &Value) -> Result<reqwest::Response, Failure> {
        let response = self.request(body).send().await.map_err(transport_failure)?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.pointer("/error/message").and_then(Value::as_str).map(str::to_string))
            .map(|m| snippet(&m))
            // A reply that is not an OpenAI-style error is never repeated: the endpoint may be
            // something else entirely, and its answer is not for the caller to read.
            .unwrap_or_else(|| format!("no OpenAI-style error in its {}-byte reply", text.len()));
        Err(Failure {
            reason: format!("the model endpoint answered {}: {}", status.as_u16(), message),
            retry: status.as_u16() == 408 || status.as_u16() == 429 || status.is_server_error(),
            retry_after,
        })
    }

    async fn attempt(&self, body: &Value) -> Result<String, Failure> {
        let response = self.send(body).await?;
        let text = response.text().await.map_err(transport_failure)?;
        let v: Value = serde_json::from_str(&text).map_err(|_| Failure {
            reason: format!("the model endpoint's {}-byte reply is not JSON", text.len()),
            retry: false,
            retry_after: None,
        })?;
        v.pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Failure {
                reason: "the model endpoint's reply has no choices[0].message.content".into(),
                retry: false,
                retry_after: None,
            })
    }

    /// A streamed completion: deltas go to `on_delta`; retried only while nothing arrived.
    async fn complete_streaming(
        &self,
        body: &Value,
        on_delta: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<String, String> {
        let mut attempt = 0;
        loop {
            let mut got_any = false;
            match self.attempt_streaming(body, on_delta, &mut got_any).await {
                Ok(text) => return Ok(text),
                Err(f) => {
                    if !f.retry || got_any || attempt >= self.config.retries {
                        return Err(self.give_up(f, attempt));
                    }
                    tokio::time::sleep(self.backoff(attempt, f.retry_after)).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt_streaming(
        &self,
        body: &Value,
        on_delta: &mut (dyn for<'s> FnMut(&'s str) + Send),
        got_any: &mut bool,
    ) -> Result<String, Failure> {
        let mut response = self.send(body).await?;
        let is_sse = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/event-stream"));
        if !is_sse {
            // A server that ignored `stream: true`: one JSON reply.
            let text = response.text().await.map_err(transport_failure)?;
            let content = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| {
                    v.pointer("/choices/0/message/content")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .ok_or_else(|| Failure {
                    reason: "the model endpoint's reply has no choices[0].message.content".into(),
                    retry: false,
                    retry_after: None,
                })?;
            *got_any = true;
            on_delta(&content);
            return Ok(content);
        }
        let mut parser = SseParser::default();
        let mut full = String::new();
        while let Some(bytes) = response.chunk().await.map_err(transport_failure)? {
            for event in parser.push(&bytes) {
                match event {
                    SseEvent::Done => return Ok(full),
                    SseEvent::Data(v) => {
                        if let Some(msg) = v.pointer("/error/message").and_then(Value::as_str) {
                            return Err(Failure {
                                reason: format!("the model stopped: {msg}"),
                                retry: false,
                                retry_after: None,
                            });
                        }
                        if let Some(delta) = v.pointer("/choices/0/delta/content").and_then(Value::as_str) {
                            if !delta.is_empty() {
                                *got_any = true;
                                full.push_str(delta);
                                on_delta(delta);
                            }
                        }
                    }
                }
            }
        }
        Ok(full)
    }

    async fn classify(&self, text: &str, categories: &[Category], threshold: Option<f64>) -> AiOutcome {
        if categories.is_empty() {
            return AiOutcome::Failed {
                reason: "no categories to classify into".into(),
            };
        }
        let mut ids: Vec<Value> = categories.iter().map(|c| Value::String(c.id.clone())).collect();
        ids.push(Value::String("unknown".into()));
        let mut list = String::new();
        for c in categories {
            list.push_str(&format!("- {}", c.id));
            if let Some(d) = &c.description {
                list.push_str(&format!(": {d}"));
            }
            let examples: Vec<&str> = c.examples.iter().take(12).map(String::as_str).collect();
            if !examples.is_empty() {
                list.push_str(&format!(" (examples: {})", examples.join(" | ")));
            }
            list.push('\n');
        }
        let system = format!(
            "You classify a customer's message into one of these categories:\n{list}\
             Use \"unknown\" when none fits. Give your confidence from 0 to 1."
        );
        let schema = json!({
            "type": "object",
            "properties": {
                "category": {"type": "string", "enum": ids},
                "confidence": {"type": "number"}
            },
            "required": ["category", "confidence"],
            "additionalProperties": false
        });
        match self
            .structured("classification", system, text.to_string(), schema)
            .await
        {
            Ok(v) => {
                let category = v.get("category").and_then(Value::as_str).unwrap_or("unknown");
                let confidence = v
                    .get("confidence")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
                    .clamp(0.0, 1.0);
                let known = categories.iter().any(|c| c.id == category);
                let min = threshold.unwrap_or(0.0);
                AiOutcome::Category {
                    category: (known && confidence >= min).then(|| category.to_string()),
                    confidence,
                }
            }
            Err(reason) => AiOutcome::Failed { reason },
        }
    }

    async fn extract(&self, text: &str, fields: &[ExtractField], today: Option<&str>) -> AiOutcome {
        if fields.is_empty() {
            return AiOutcome::Fields {
                values: BTreeMap::new(),
            };
        }
        let mut properties = serde_json::Map::new();
        let mut required = Vec::new();
        for f in fields {
            let (ty, what) = match f.kind {
                ExtractKind::Email => ("string", "an email address"),
                ExtractKind::Phone => ("string", "a phone number"),
                ExtractKind::OrderId => ("string", "an order id or number"),
                ExtractKind::Name => ("string", "a person's full name"),
                ExtractKind::Number => ("number", "a number"),
                ExtractKind::Date => ("string", "a date as YYYY-MM-DD"),
                ExtractKind::Text => ("string", "text"),
                ExtractKind::Regex => ("string", "text matching the pattern"),
            };
            let mut description = what.to_string();
            if let Some(d) = &f.description {
                description = format!("{d} ({what})");
            }
            if let Some(p) = &f.pattern {
                description.push_str(&format!("; pattern: {p}"));
            }
            properties.insert(
                f.variable.clone(),
                json!({"type": [ty, "null"], "description": description}),
            );
            required.push(Value::String(f.variable.clone()));
        }
        let schema = json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false
        });
        let mut system = "Extract these fields from the customer's message. Use null for a field the message does not \
                          contain; never guess."
            .to_string();
        if let Some(t) = today {
            system.push_str(&format!(" Today is {t}."));
        }
        match self.structured("extraction", system, text.to_string(), schema).await {
            Ok(v) => {
                let mut values = BTreeMap::new();
                for f in fields {
                    let Some(raw) = v.get(&f.variable).filter(|x| !x.is_null()) else {
                        continue;
                    };
                    if let Some(value) = check_field(f, raw, today) {
                        values.insert(f.variable.clone(), value);
                    }
                }
                AiOutcome::Fields { values }
            }
            Err(reason) => AiOutcome::Failed { reason },
        }
    }

    async fn sentiment(&self, text: &str) -> AiOutcome {
        let schema = json!({
            "type": "object",
            "properties": {
                "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
                "frustrated": {"type": "boolean"}
            },
            "required": ["sentiment", "frustrated"],
            "additionalProperties": false
        });
        let system = "Rate the customer's message: its sentiment, and whether the customer is frustrated (losing \
                      patience, repeating themselves, angry)."
            .to_string();
        match self.structured("sentiment", system, text.to_string(), schema).await {
            Ok(v) => {
                let sentiment = v
                    .get("sentiment")
                    .and_then(Value::as_str)
                    .filter(|s| matches!(*s, "positive" | "neutral" | "negative"))
                    .unwrap_or("neutral")
                    .to_string();
                let frustrated = v.get("frustrated").and_then(Value::as_bool).unwrap_or(false);
                AiOutcome::Sentiment { sentiment, frustrated }
            }
            Err(reason) => AiOutcome::Failed { reason },
        }
    }

    async fn text_task(&self, messages: &[ChatMessage]) -> AiOutcome {
        let body = json!({
            "model": self.config.model,
            "messages": chat_json(messages),
            "temperature": 0,
        });
        match self.complete(&body).await {
            Ok(text) => AiOutcome::Text {
                text: text.trim().to_string(),
            },
            Err(reason) => AiOutcome::Failed { reason },
        }
    }

    async fn answer(
        &self,
        question: &str,
        collections: &[String],
        context: &AiContext,
        on_text: Option<&mut (dyn for<'s> FnMut(&'s str) + Send)>,
    ) -> AiOutcome {
        if let Some(i) = intent::detect(question) {
            return AiOutcome::Answer {
                text: String::new(),
                sources: Vec::new(),
                intent: i,
            };
        }
        let unanswered = AiOutcome::Answer {
            text: String::new(),
            sources: Vec::new(),
            intent: AnswerIntent::Unanswered,
        };
        let Some(knowledge) = &context.knowledge else {
            return unanswered;
        };
        let passages: Vec<_> = knowledge
            .search(&Query {
                text: question.to_string(),
                context: follow_up_context(question, &context.transcript),
                collections: collections.to_vec(),
                limit: self.config.passages.max(1),
            })
            .into_iter()
            .filter(|p| p.confidence >= self.config.min_retrieval)
            .collect();
        if passages.is_empty() {
            return unanswered;
        }
        let messages = chat_json(&prompt::answer_messages(question, &context.transcript, &passages, 8));
        let streaming = on_text.is_some();
        let mut body = json!({
            "model": self.config.model,
            "messages": messages,
            "temperature": 0,
        });
        if streaming {
            if let Some(obj) = body.as_object_mut() {
                obj.insert("stream".into(), Value::Bool(true));
            }
        }
        let result = match on_text {
            Some(sink) => {
                let mut filter = AnswerFilter::new(sink);
                let r = self.complete_streaming(&body, &mut |d: &str| filter.push(d)).await;
                if r.is_ok() {
                    filter.finish();
                }
                r
            }
            None => self.complete(&body).await,
        };
        let raw = match result {
            Ok(t) => t,
            Err(reason) => return AiOutcome::Failed { reason },
        };
        if is_dont_know(&raw) {
            return unanswered;
        }
        AiOutcome::Answer {
            text: strip_citations(&raw),
            sources: cited_sources(&raw, &passages),
            intent: AnswerIntent::Answered,
        }
    }

    async fn dispatch(
        &self,
        request: &AiRequest,
        context: &AiContext,
        on_text: Option<&mut (dyn for<'s> FnMut(&'s str) + Send)>,
    ) -> AiOutcome {
        match &request.query {
            AiQuery::Classify {
                text,
                categories,
                threshold,
            } => self.classify(text, categories, *threshold).await,
            AiQuery::Extract { text, fields } => self.extract(text, fields, context.today.as_deref()).await,
            AiQuery::Sentiment { text } => self.sentiment(text).await,
            AiQuery::Summarize => match prompt::summary_messages(&context.transcript, &context.variables) {
                Some(messages) => self.text_task(&messages).await,
                None => AiOutcome::Text {
                    text: "The customer has not written anything yet.".into(),
                },
            },
            AiQuery::Instruction { instruction, text } => {
                self.text_task(&prompt::instruction_messages(instruction, text)).await
            }
            AiQuery::Answer {
                question, collections, ..
            } => self.answer(question, collections, context, on_text).await,
        }
    }
}

#[async_trait::async_trait]
impl AiProvider for OpenAiCompatible {
    fn name(&self) -> String {
        format!("openai-compatible:{}", self.config.model)
    }

    async fn run(&self, request: &AiRequest, context: &AiContext) -> AiOutcome {
        self.dispatch(request, context, None).await
    }

    async fn run_streaming(
        &self,
        request: &AiRequest,
        context: &AiContext,
        on_text: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> AiOutcome {
        self.dispatch(request, context, Some(on_text)).await
    }
}

fn transport_failure(e: reqwest::Error) -> Failure {
    let reason = if e.is_timeout() {
        "the model endpoint timed out".to_string()
    } else if e.is_connect() {
        format!("cannot reach the model endpoint: {}", root_cause(&e))
    } else {
        format!("the model endpoint failed: {}", root_cause(&e))
    };
    Failure {
        reason,
        retry: e.is_timeout() || e.is_connect() || e.is_request() || e.is_body(),
        retry_after: None,
    }
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

fn snippet(s: &str) -> String {
    let t: String = s.trim().chars().take(200).collect();
    if t.is_empty() {
        "(empty)".into()
    } else {
        t
    }
}

/// JSON from a message's content: as is, inside a ```json fence, or the outermost {…}.
fn parse_json_content(content: &str) -> Option<Value> {
    let t = content.trim();
    if let Ok(v) = serde_json::from_str::<Value>(t) {
        return v.is_object().then_some(v);
    }
    let start = t.find('{')?;
    let end = t.rfind('}')?;
    serde_json::from_str::<Value>(t.get(start..=end)?)
        .ok()
        .filter(Value::is_object)
}

/// A model's value for a field, checked and normalised like the offline extractor's.
fn check_field(f: &ExtractField, raw: &Value, today: Option<&str>) -> Option<Value> {
    let as_text = match raw {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if as_text.trim().is_empty() {
        return None;
    }
    match f.kind {
        ExtractKind::Number => match raw {
            Value::Number(_) => Some(raw.clone()),
            _ => extract::extract_one(&as_text, f.kind, None, today),
        },
        ExtractKind::Email | ExtractKind::Phone | ExtractKind::Date => {
            extract::extract_one(&as_text, f.kind, f.pattern.as_deref(), today)
        }
        ExtractKind::Regex => {
            let re = baton_flow::flow::compile_pattern(f.pattern.as_deref()?).ok()?;
            re.is_match(&as_text).then(|| Value::String(as_text.trim().to_string()))
        }
        ExtractKind::OrderId | ExtractKind::Name | ExtractKind::Text => Some(Value::String(as_text.trim().to_string())),
    }
}

enum SseEvent {
    Data(Value),
    Done,
}

/// Server-sent events → `data:` payloads (JSON) and `[DONE]`.
#[derive(Default)]
struct SseParser {
    buffer: Vec<u8>,
    data: String,
}

impl SseParser {
    fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(pos) = self.buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                let data = std::mem::take(&mut self.data);
                if data.trim() == "[DONE]" {
                    events.push(SseEvent::Done);
                } else if let Ok(v) = serde_json::from_str::<Value>(&data) {
                    events.push(SseEvent::Data(v));
                }
            } else if let Some(d) = line.strip_prefix("data:") {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(d.strip_prefix(' ').unwrap_or(d));
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_lines_split_anywhere() {
        let mut p = SseParser::default();
        let stream = "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\r\n\r\ndata: [DONE]\n\n";
        let mut text = String::new();
        let mut done = false;
        for chunk in stream.as_bytes().chunks(7) {
            for e in p.push(chunk) {
                match e {
                    SseEvent::Data(v) => text.push_str(
                        v.pointer("/choices/0/delta/content")
                            .and_then(Value::as_str)
                            .unwrap_or(""),
                    ),
                    SseEvent::Done => done = true,
                }
            }
        }
        assert_eq!(text, "Hello");
        assert!(done);
    }

    #[test]
    fn json_in_prose() {
        assert_eq!(
            parse_json_content("Sure! ```json\n{\"a\": 1}\n```"),
            Some(json!({"a": 1}))
        );
        assert_eq!(parse_json_content("no"), None);
    }

    #[test]
    fn config_checks() {
        assert!(OpenAiCompatible::new(OpenAiConfig::new("localhost:11434", "llama3")).is_err());
        assert!(OpenAiCompatible::new(OpenAiConfig::new("http://localhost:11434/v1", "")).is_err());
        let c = OpenAiConfig::new("http://localhost:11434/v1/", "llama3").with_api_key("sk-secret");
        assert_eq!(c.endpoint(), "http://localhost:11434/v1/chat/completions");
        assert!(!format!("{c:?}").contains("sk-secret"));
    }
}
