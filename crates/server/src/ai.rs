//! Which AI answers a workspace's AI effects: the built-in offline provider (retrieval over the
//! knowledge base, classifiers, extractors, summaries; optionally with sentence embeddings the
//! operator loaded at start), or an OpenAI-compatible endpoint the workspace configured.

use crate::error::ApiError;
use crate::webhook::AddressPolicy;
use baton_ai::embed::Embedder;
use baton_ai::openai::StructuredOutput;
use baton_ai::{AiContext, AiOutcome, AiProvider, AiRequest, OfflineProvider, OpenAiCompatible, OpenAiConfig};
use baton_store::Store;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// Which provider a workspace uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Built in: no network, no key.
    #[default]
    Offline,
    /// Any endpoint speaking OpenAI's `/v1/chat/completions` (OpenAI, Azure, Ollama, vLLM,
    /// llama.cpp's server).
    OpenaiCompatible,
}

/// What is stored for a workspace. The endpoint is kept when the workspace switches back to
/// offline, so switching again does not ask for the key anew.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AiSettings {
    pub provider: ProviderKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openai: Option<OpenAiConfig>,
}

/// The settings as members see them: never the key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AiSettingsView {
    pub provider: ProviderKind,
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// A key is stored (it is never shown again).
    pub api_key_set: bool,
    /// Per attempt, until the whole reply has arrived.
    pub timeout_ms: u64,
    /// How JSON is asked for: `json_schema`, `json_object` or `prompt`.
    #[schema(value_type = String)]
    pub structured_output: StructuredOutput,
    /// This server loaded a sentence-embedding model (offline retrieval and classification
    /// use it). Set by the operator at start (`baton serve --embedding-model DIR`).
    pub embeddings: bool,
    /// The language model this server runs in-process for the offline provider (Let AI Answer
    /// writes its answers, instructions and hand-over summaries), or null: answers are
    /// extractive. Set by the operator at start (`baton serve --model FILE`).
    pub local_model: Option<String>,
}

/// A change of the settings.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AiSettingsUpdate {
    pub provider: ProviderKind,
    /// Required for `openai_compatible`: up to the API version, e.g. `http://localhost:11434/v1`.
    #[serde(default)]
    #[schema(max_length = 500, pattern = "^\\s*[Hh][Tt][Tt][Pp][Ss]?://")]
    pub base_url: Option<String>,
    /// Required for `openai_compatible`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub model: Option<String>,
    /// Absent: keep the stored key; empty: remove it.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub api_key: Option<String>,
    /// 1,000 to 120,000 ms (default 30,000).
    #[serde(default)]
    #[schema(minimum = 1000, maximum = 120000)]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    #[schema(value_type = Option<crate::api_enums::StructuredOutputName>)]
    pub structured_output: Option<StructuredOutput>,
}

const MAX_URL: usize = 500;
const MAX_MODEL: usize = 200;
const MAX_KEY: usize = 1000;
const TIMEOUT_RANGE: std::ops::RangeInclusive<u64> = 1_000..=120_000;

impl AiSettings {
    /// The endpoint's configuration when the workspace uses one.
    pub fn endpoint(&self) -> Option<&OpenAiConfig> {
        match self.provider {
            ProviderKind::OpenaiCompatible => self.openai.as_ref(),
            ProviderKind::Offline => None,
        }
    }

    pub fn view(&self, embeddings: bool, local_model: Option<String>) -> AiSettingsView {
        let openai = self.openai.as_ref();
        AiSettingsView {
            provider: self.provider,
            base_url: openai.map(|c| c.base_url.clone()),
            model: openai.map(|c| c.model.clone()),
            api_key_set: openai.is_some_and(|c| c.api_key.as_deref().is_some_and(|k| !k.is_empty())),
            timeout_ms: openai.map_or(30_000, |c| c.timeout_ms),
            structured_output: openai.map(|c| c.structured_output).unwrap_or_default(),
            embeddings,
            local_model,
        }
    }

    /// These settings changed by `update`; an error names the field.
    pub fn apply(&self, update: AiSettingsUpdate) -> Result<AiSettings, ApiError> {
        let stored = self.openai.clone();
        let endpoint_given = update.base_url.is_some() || update.model.is_some();
        if update.provider == ProviderKind::Offline && !endpoint_given && update.api_key.is_none() {
            return Ok(AiSettings {
                provider: ProviderKind::Offline,
                openai: stored,
            });
        }
        let base_url = match update.base_url.or_else(|| stored.as_ref().map(|c| c.base_url.clone())) {
            Some(u) => u.trim().to_string(),
            None => {
                return Err(ApiError::invalid_field(
                    "base_url",
                    "the endpoint's base URL is required, e.g. http://localhost:11434/v1",
                ))
            }
        };
        if base_url.chars().count() > MAX_URL {
            return Err(ApiError::invalid_field(
                "base_url",
                format!("at most {MAX_URL} characters"),
            ));
        }
        match reqwest::Url::parse(&base_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => {
                return Err(ApiError::invalid_field(
                    "base_url",
                    "a base URL starts with http:// or https:// and names a host, e.g. http://localhost:11434/v1",
                ))
            }
        }
        let model = match update.model.or_else(|| stored.as_ref().map(|c| c.model.clone())) {
            Some(m) if !m.trim().is_empty() => m.trim().to_string(),
            _ => {
                return Err(ApiError::invalid_field(
                    "model",
                    "the model is required, e.g. llama3.1:8b or gpt-4o-mini",
                ))
            }
        };
        if model.chars().count() > MAX_MODEL {
            return Err(ApiError::invalid_field(
                "model",
                format!("at most {MAX_MODEL} characters"),
            ));
        }
        let api_key = match update.api_key {
            Some(k) if k.trim().is_empty() => None,
            Some(k) if k.chars().count() > MAX_KEY => {
                return Err(ApiError::invalid_field(
                    "api_key",
                    format!("at most {MAX_KEY} characters"),
                ))
            }
            Some(k) => Some(k.trim().to_string()),
            None => stored.as_ref().and_then(|c| c.api_key.clone()),
        };
        let timeout_ms = update
            .timeout_ms
            .or_else(|| stored.as_ref().map(|c| c.timeout_ms))
            .unwrap_or(30_000);
        if !TIMEOUT_RANGE.contains(&timeout_ms) {
            return Err(ApiError::invalid_field(
                "timeout_ms",
                "from 1000 to 120000 milliseconds",
            ));
        }
        let mut config = stored.unwrap_or_else(|| OpenAiConfig::new(base_url.clone(), model.clone()));
        config.base_url = base_url;
        config.model = model;
        config.api_key = api_key;
        config.timeout_ms = timeout_ms;
        if let Some(s) = update.structured_output {
            config.structured_output = s;
        }
        Ok(AiSettings {
            provider: update.provider,
            openai: Some(config),
        })
    }
}

/// How long a workspace's provider is reused before its settings are read again (another
/// instance may have changed them).
const PROVIDER_TTL: Duration = Duration::from_millis(2000);

/// A workspace's endpoint (none: offline) and when its settings were read.
type CachedEndpoint = (Instant, Option<Arc<OpenAiCompatible>>);

/// The AI of every workspace on this server.
pub struct Ai {
    offline: OfflineProvider,
    /// Which addresses a workspace's endpoint may be at (as webhooks: public by default).
    targets: AddressPolicy,
    embedder: Option<Arc<dyn Embedder>>,
    store: Store,
    endpoints: Mutex<HashMap<String, CachedEndpoint>>,
}

impl Ai {
    pub fn new(store: Store, offline: OfflineProvider, targets: AddressPolicy) -> Ai {
        let embedder = offline.embedder().cloned();
        Ai {
            offline,
            targets,
            embedder,
            store,
            endpoints: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the embedded language model writes this workspace's hand-over summaries (the
    /// workspace uses the offline provider and the server loaded a model); otherwise the
    /// extractive summary stays.
    pub async fn writes_summaries(&self, workspace_id: &str) -> bool {
        self.offline.model_id().is_some() && matches!(self.endpoint(workspace_id).await, Ok(None))
    }

    /// The embedded language model's name, when one was loaded at start.
    pub fn local_model(&self) -> Option<String> {
        self.offline.model_id()
    }

    /// The sentence embedder loaded at start, if any (knowledge bases index with it too).
    pub fn embedder(&self) -> Option<&Arc<dyn Embedder>> {
        self.embedder.as_ref()
    }

    pub async fn settings(&self, workspace_id: &str) -> Result<AiSettings, ApiError> {
        match self.store.workspace_ai_settings(workspace_id).await? {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| ApiError::internal(format!("the workspace's AI settings are unreadable: {e}"))),
            None => Ok(AiSettings::default()),
        }
    }

    pub async fn save(&self, workspace_id: &str, settings: &AiSettings) -> Result<(), ApiError> {
        let text = serde_json::to_string(settings).map_err(|e| ApiError::internal(e.to_string()))?;
        self.store
            .update_workspace_ai_settings(workspace_id, Some(&text))
            .await?;
        self.endpoints
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(workspace_id);
        Ok(())
    }

    /// The workspace's endpoint, when it uses one.
    async fn endpoint(&self, workspace_id: &str) -> Result<Option<Arc<OpenAiCompatible>>, String> {
        if let Some((at, p)) = self
            .endpoints
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(workspace_id)
        {
            if at.elapsed() < PROVIDER_TTL {
                return Ok(p.clone());
            }
        }
        let settings = self.settings(workspace_id).await.map_err(|e| e.message)?;
        let endpoint = match settings.endpoint() {
            Some(config) => Some(Arc::new(self.connect(config.clone())?)),
            None => None,
        };
        self.endpoints
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(workspace_id.to_string(), (Instant::now(), endpoint.clone()));
        Ok(endpoint)
    }

    /// Answers a request with the workspace's provider: a failure (an endpoint that cannot be
    /// reached, settings that do not hold) is an outcome, `Failed` with the reason. An endpoint
    /// tells the text of an answer to `on_text` as it is written (deltas); other requests and
    /// the offline provider never call it.
    pub async fn run(
        &self,
        workspace_id: &str,
        request: &AiRequest,
        context: &AiContext,
        on_text: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> (String, AiOutcome) {
        match self.endpoint(workspace_id).await {
            Ok(Some(endpoint)) => (endpoint.name(), endpoint.run_streaming(request, context, on_text).await),
            Ok(None) => (
                self.offline.name(),
                self.offline.run_streaming(request, context, on_text).await,
            ),
            Err(reason) => ("openai".into(), AiOutcome::Failed { reason }),
        }
    }

    /// A client for an endpoint, under the server's target policy (an address it forbids is
    /// refused before anything is sent, and names are checked as they resolve).
    fn connect(&self, config: OpenAiConfig) -> Result<OpenAiCompatible, String> {
        crate::webhook::check_target(&config.base_url, self.targets)
            .map_err(|e| format!("the model endpoint was not called: {e}"))?;
        OpenAiCompatible::with_http(config, crate::webhook::guarded_http(self.targets)).map_err(|e| e.to_string())
    }

    /// Tries the workspace's saved endpoint with one tiny request (no retries).
    pub async fn check(&self, workspace_id: &str) -> Result<String, String> {
        let settings = self.settings(workspace_id).await.map_err(|e| e.message)?;
        let Some(config) = settings.endpoint() else {
            return Ok("The built-in offline AI needs no connection.".into());
        };
        let mut config = config.clone().with_retries(0, Duration::ZERO);
        config.timeout_ms = config.timeout_ms.min(15_000);
        let endpoint = self.connect(config)?;
        let started = Instant::now();
        let reply = endpoint.check().await?;
        Ok(format!(
            "The model answered in {} ms: {}",
            started.elapsed().as_millis(),
            reply.chars().take(80).collect::<String>().trim()
        ))
    }
}
