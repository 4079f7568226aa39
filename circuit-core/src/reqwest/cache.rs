//! The last good response per URL: what is kept of a response, and how it is served again.

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{ResponseBuilderExt, StatusCode, Url, Version};
use std::fmt;

/// A successful response kept whole (status, headers, body) for
/// [`CircuitBreakerMiddleware::fallback_cache`](super::CircuitBreakerMiddleware::fallback_cache)
/// to answer with while its service is down. Cheap to clone: the body is shared.
#[derive(Clone)]
pub struct CachedResponse {
    url: Url,
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
}

/// Marks a response served from the fallback cache rather than by the service: read it with
/// `response.extensions().get::<ServedFromCache>()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServedFromCache;

impl CachedResponse {
    /// Reads `response`'s body whole, keeping a copy; gives back the response to return, with
    /// the same status, headers and body.
    pub(crate) async fn read(
        response: reqwest::Response,
    ) -> Result<(CachedResponse, reqwest::Response), reqwest::Error> {
        let url = response.url().clone();
        let status = response.status();
        let version = response.version();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        let cached = CachedResponse {
            url,
            status,
            version,
            headers,
            body,
        };
        let fresh = cached.to_response(false);
        Ok((cached, fresh))
    }

    /// A response with this status, headers and body; marked [`ServedFromCache`] if `served`.
    pub(crate) fn to_response(&self, served: bool) -> reqwest::Response {
        let mut response = http::Response::builder()
            .status(self.status)
            .version(self.version)
            .url(self.url.clone())
            .body(self.body.clone())
            .expect("parts taken from a valid response");
        *response.headers_mut() = self.headers.clone();
        if served {
            response.extensions_mut().insert(ServedFromCache);
        }
        reqwest::Response::from(response)
    }

    /// The URL the response came from.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Its status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Its body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

impl fmt::Debug for CachedResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedResponse")
            .field("url", &self.url.as_str())
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}
