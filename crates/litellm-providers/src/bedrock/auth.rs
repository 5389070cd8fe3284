//! Bedrock authentication: SigV4 signing (aws-sigv4) over the headers, URL and body, or a
//! bearer API key.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};

use litellm_core::{ErrorKind, LlmError};

use super::{BedrockAdapter, PROVIDER, SIGNING_SERVICE};
use crate::adapter_common::add_extra_headers;
use crate::upstream::{insert_header, UpstreamRequest};

/// `litellm_params` credential sources LiteLLM supports that litellm-rs does not.
pub(super) const UNSUPPORTED_AUTH_PARAMS: &[&str] = &[
    "aws_role_name",
    "aws_session_name",
    "aws_profile_name",
    "aws_web_identity_token",
    "aws_sts_endpoint",
    "aws_external_id",
];

/// How requests are authenticated. `Debug` never shows a secret (`Credentials` redacts the
/// secret key and the session token; the bearer key is a `SecretString`).
#[derive(Debug, Clone)]
pub(super) enum Auth {
    SigV4(Credentials),
    Bearer(SecretString),
    Missing,
}

impl BedrockAdapter {
    /// Adds the call's headers and the credentials (a bearer key, or a SigV4 signature over
    /// every header, the URL and the body at `now`).
    pub(super) fn finish(
        &self,
        url: String,
        mut headers: HeaderMap,
        body: Bytes,
        extra_headers: &[(String, String)],
        now: SystemTime,
    ) -> Result<UpstreamRequest, LlmError> {
        add_extra_headers(&mut headers, extra_headers.iter().map(|(n, v)| (n, v)))?;
        match &self.auth {
            Auth::Bearer(key) => insert_header(
                &mut headers,
                "authorization",
                &format!("Bearer {}", key.expose_secret()),
                "api_key",
            )?,
            Auth::SigV4(creds) => {
                let signing_error = |what: &str| {
                    LlmError::internal(format!("could not sign the bedrock request: {what}"))
                        .with_provider(PROVIDER)
                };
                let identity: Identity = creds.clone().into();
                let params = v4::SigningParams::builder()
                    .identity(&identity)
                    .region(&self.region)
                    .name(SIGNING_SERVICE)
                    .time(now)
                    .settings(SigningSettings::default())
                    .build()
                    .map_err(|e| signing_error(&e.to_string()))?
                    .into();
                let pairs: Vec<(&str, &str)> = headers
                    .iter()
                    .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
                    .collect();
                let signable = SignableRequest::new(
                    "POST",
                    url.as_str(),
                    pairs.into_iter(),
                    SignableBody::Bytes(&body),
                )
                .map_err(|e| signing_error(&e.to_string()))?;
                let (instructions, _signature) = sign(signable, &params)
                    .map_err(|e| signing_error(&e.to_string()))?
                    .into_parts();
                let (signed, _query) = instructions.into_parts();
                let mut out = HeaderMap::new();
                for h in &signed {
                    insert_header(&mut out, h.name(), h.value(), "aws credentials")?;
                }
                headers.extend(out);
            }
            Auth::Missing => {
                return Err(LlmError::upstream(
                    ErrorKind::Authentication,
                    "no AWS credentials for bedrock: set litellm_params aws_access_key_id and \
                     aws_secret_access_key (or api_key), or AWS_ACCESS_KEY_ID and \
                     AWS_SECRET_ACCESS_KEY (or AWS_BEARER_TOKEN_BEDROCK)",
                )
                .with_provider(PROVIDER));
            }
        }
        Ok(UpstreamRequest::post(url, headers, body))
    }
}
