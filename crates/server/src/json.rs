//! A JSON body extractor whose errors name the offending field.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

/// Like `axum::Json`, with errors as [`ApiError`]s that say which field is wrong.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        if !is_json {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `content-type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    status,
                    "body_too_large",
                    "the body is larger than this endpoint accepts",
                )
            } else {
                ApiError::bad_request("invalid_body", e.body_text())
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Like [`ApiJson`] for bodies whose fields are all optional: an empty body is the default.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let has_body = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v != "0")
            && req.headers().contains_key(CONTENT_TYPE);
        if !has_body {
            return Ok(OptionalJson(T::default()));
        }
        ApiJson::<T>::from_request(req, state)
            .await
            .map(|ApiJson(v)| OptionalJson(v))
    }
}

/// Parses JSON, naming the field of the first problem: the field with the wrong type or value,
/// the unknown field, or the missing one (no field when the body is not JSON at all).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let text = inner.to_string();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad_request("invalid_body", format!("the body is not valid JSON: {text}"));
        }
        let mut err = ApiError::bad_request("invalid_body", format!("the body is not valid: {text}"));
        let at = (path != "." && !path.is_empty() && !path.contains('?')).then_some(path);
        // serde reports a missing field at the object that lacks it.
        let missing = text
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(|name| match &at {
                Some(parent) => format!("{parent}.{name}"),
                None => name.to_string(),
            });
        if let Some(field) = missing.or(at) {
            err = err.field(&field);
        }
        err
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        contact: Option<Contact>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Contact {
        email: String,
    }

    fn field_of(body: &str) -> Option<String> {
        let err = parse::<Body>(body.as_bytes()).expect_err("refused");
        assert_eq!(err.code, "invalid_body");
        err.field
    }

    #[test]
    fn errors_name_the_field_or_none() {
        assert_eq!(field_of("{\"name\": 1}").as_deref(), Some("name"), "wrong type");
        assert_eq!(field_of("{}").as_deref(), Some("name"), "missing");
        assert_eq!(
            field_of("{\"name\": \"a\", \"contact\": {}}").as_deref(),
            Some("contact.email"),
            "missing, nested"
        );
        assert_eq!(field_of("{\"name\": \"a\", \"x\": 1}").as_deref(), Some("x"), "unknown");
        assert_eq!(field_of("{\"name\": "), None, "cut short");
        assert_eq!(field_of("not json"), None, "not JSON");
        assert_eq!(field_of("{\"name\": \"a\",}"), None, "trailing comma");
    }
}
