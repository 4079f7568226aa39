//! The middleware: which breaker a request goes through, how its outcome counts, and the
//! last good response per URL.

use crate::reqwest::cache::CachedResponse;
use crate::tower::held::{fail_on_unwind, guarded, Breaker};
use crate::tower::{Classify, RetryAfter, ServerErrors};
use crate::Outcome;
use crate::{registry, CircuitBreaker, Config, FallbackCache, KeyedBreakers};
use reqwest::{Method, Request, Response};
use reqwest_middleware::{Middleware, Next, Result};
use std::fmt;
use std::sync::Arc;

/// Runs each request of a [`reqwest_middleware::ClientWithMiddleware`] through a circuit
/// breaker: one per service ([`named`](Self::named), [`new`](Self::new)) or one per host
/// ([`per_host`](Self::per_host)).
///
/// - **What counts**: as in the tower layer, a classifier reads each result; the default,
///   [`ServerErrors`], fails errors (connection refused, timed out, reset) and `5xx`
///   responses, and lets every other response (`4xx` included) succeed. See
///   [`classifier`](Self::classifier).
/// - **A rejection** is `Err(reqwest_middleware::Error::Middleware(_))` holding the
///   [`CircuitOpen`](crate::CircuitOpen); [`rejection`](super::rejection) finds it.
/// - **The last good response per URL** ([`fallback_cache`](Self::fallback_cache), off unless
///   asked for): every successful (`2xx`) `GET` is kept, read whole, under its URL; while the
///   breaker rejects, or when a call fails in a way that counts, the kept response is served
///   instead (marked [`ServedFromCache`](super::ServedFromCache), and counted in the breaker's
///   [`fallbacks`](crate::Snapshot::fallbacks)) for as long as the cache's time to live
///   (300 s by default).
///
/// A request cancelled by its caller counts as nothing and gives back a half-open trial slot.
pub struct CircuitBreakerMiddleware<C = ServerErrors> {
    target: Target,
    classifier: C,
    cache: Option<FallbackCache<String, CachedResponse>>,
}

enum Target {
    One(Breaker),
    PerHost(Arc<KeyedBreakers>),
}

impl CircuitBreakerMiddleware {
    /// Every request through the breaker named `name` in the process-wide [`registry()`],
    /// made with the default [`Config`] (or the one given to
    /// [`Registry::configure`](crate::Registry::configure)) if there is none yet.
    pub fn named(name: &str) -> Self {
        Self::with(Target::One(Breaker::Static(
            registry().lookup_or_create(name, Config::default),
        )))
    }

    /// Every request through the breaker named `name` in the process-wide [`registry()`],
    /// made with `config` if there is none yet.
    pub fn named_with(name: &str, config: Config) -> Self {
        Self::with(Target::One(Breaker::Static(
            registry().lookup_or_create(name, || config),
        )))
    }

    /// Every request through `breaker`.
    pub fn new(breaker: Arc<CircuitBreaker>) -> Self {
        Self::with(Target::One(Breaker::Shared(breaker)))
    }

    /// Each request through the breaker of its URL's host, from `set` (see
    /// [`Registry::keyed`](crate::Registry::keyed)). The key is the host, with the port when
    /// the URL names one (`api.example.com`, `127.0.0.1:8001`): two services on one machine
    /// are two keys.
    pub fn per_host(set: Arc<KeyedBreakers>) -> Self {
        Self::with(Target::PerHost(set))
    }

    fn with(target: Target) -> Self {
        CircuitBreakerMiddleware {
            target,
            classifier: ServerErrors,
            cache: None,
        }
    }
}

impl<C> CircuitBreakerMiddleware<C> {
    /// The same middleware, deciding outcomes with `classifier`: a
    /// [`Classify`]`<reqwest::Response, reqwest_middleware::Error>`, such as a closure
    /// returning an [`Outcome`].
    pub fn classifier<C2>(self, classifier: C2) -> CircuitBreakerMiddleware<C2> {
        CircuitBreakerMiddleware {
            target: self.target,
            classifier,
            cache: self.cache,
        }
    }

    /// Keeps the last good response per URL in `cache` and serves it while the service is
    /// down (see the type's documentation). `FallbackCache::new()` keeps at most 10,000 URLs
    /// for 300 s each; its builder methods change both, and its clock.
    pub fn fallback_cache(mut self, cache: FallbackCache<String, CachedResponse>) -> Self {
        self.cache = Some(cache);
        self
    }

    fn breaker_for(&self, request: &Request) -> Result<Breaker> {
        match &self.target {
            Target::One(breaker) => Ok(breaker.clone()),
            Target::PerHost(set) => set
                .get(host_and_port(request.url()))
                .map(Breaker::Shared)
                .map_err(reqwest_middleware::Error::middleware),
        }
    }

    /// The last good response for `key`, marked as served from the cache and counted.
    fn fallback(&self, key: Option<&String>, breaker: &CircuitBreaker) -> Option<Response> {
        let cached = self.cache.as_ref()?.get(key?)?;
        breaker.record_fallback();
        Some(cached.to_response(true))
    }
}

/// `host` or `host:port` of `url`: a slice of it, so the key costs no allocation.
fn host_and_port(url: &reqwest::Url) -> &str {
    &url[url::Position::BeforeHost..url::Position::AfterPort]
}

#[async_trait::async_trait]
impl<C> Middleware for CircuitBreakerMiddleware<C>
where
    C: Classify<Response, reqwest_middleware::Error> + Send + Sync + 'static,
{
    async fn handle(
        &self,
        request: Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> Result<Response> {
        let breaker = self.breaker_for(&request)?;
        // Only GETs are served again: a repeated answer to a POST would be a lie.
        let cache_key = (self.cache.is_some() && request.method() == Method::GET)
            .then(|| request.url().as_str().to_owned());
        let mut permit = match breaker.acquire() {
            Ok(permit) => permit,
            Err(open) => {
                return match self.fallback(cache_key.as_ref(), breaker.get()) {
                    Some(cached) => Ok(cached),
                    None => Err(reqwest_middleware::Error::middleware(open)),
                };
            }
        };
        let result = guarded(&mut permit, next.run(request, extensions)).await;
        let outcome = fail_on_unwind(&mut permit, || self.classifier.classify(&result));
        permit.report(outcome);
        if outcome.is_failure() {
            if let Some(cached) = self.fallback(cache_key.as_ref(), breaker.get()) {
                return Ok(cached);
            }
        }
        match (result, cache_key, &self.cache) {
            (Ok(response), Some(key), Some(cache)) if response.status().is_success() => {
                let (cached, response) = CachedResponse::read(response).await?;
                cache.put(key, cached);
                Ok(response)
            }
            (result, _, _) => result,
        }
    }
}

impl<C: fmt::Debug> fmt::Debug for CircuitBreakerMiddleware<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("CircuitBreakerMiddleware");
        match &self.target {
            Target::One(breaker) => d.field("breaker", &breaker.get().name()),
            Target::PerHost(set) => d.field("per_host", set),
        };
        d.field("classifier", &self.classifier)
            .field("fallback_cache", &self.cache)
            .finish()
    }
}

/// The default for reqwest, as for `http::Response`: errors and `5xx` fail, the rest succeeds.
impl<E> Classify<Response, E> for ServerErrors {
    #[inline]
    fn classify(&self, result: &std::result::Result<Response, E>) -> Outcome {
        match result {
            Ok(response) if response.status().is_server_error() => Outcome::Failure,
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
}

/// `Retry-After` on a 429 or 503 reqwest response, as for `http::Response`: see
/// [`RetryAfter`].
impl<E, C> Classify<Response, E> for RetryAfter<C>
where
    C: Classify<Response, E>,
{
    fn classify(&self, result: &std::result::Result<Response, E>) -> Outcome {
        match result {
            Ok(response) => match Self::asked(response.status(), response.headers()) {
                Some(period) => Outcome::OpenFor(period),
                None => self.0.classify(result),
            },
            Err(_) => self.0.classify(result),
        }
    }
}
