//! The HTTP interface: users, health, metrics and (with `ADMIN_TOKEN`) administration of the
//! breakers. Every database error becomes an answer at once: 503 while the breaker is open
//! or the database fails, 409 for a taken email, 404 for a missing user.

use crate::db::{Database, DbError, User};
use crate::settings::BREAKER;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use circuit_core::axum::CircuitOpenResponse;
use circuit_core::Registry;
use serde_json::json;
use std::sync::Arc;

/// The `error_code` of a rejection by the open database breaker.
pub const BREAKER_OPEN_CODE: &str = "DB_CIRCUIT_BREAKER_OPEN";
/// The `error_code` of a database failure while the breaker still lets calls through.
pub const DB_UNAVAILABLE_CODE: &str = "DB_UNAVAILABLE";

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The database behind its breaker.
    pub db: Database,
    /// Where the breakers of `/health`, `/metrics` and the admin routes are found.
    pub registry: &'static Registry,
    /// The bearer token of the admin routes; `None` turns them off.
    pub admin_token: Option<Arc<str>>,
}

/// The service's routes.
pub fn router(state: AppState) -> Router {
    circuit_core::axum::set_error_code(BREAKER, BREAKER_OPEN_CODE);
    let mut router = Router::new()
        .route("/users", post(create_user))
        .route("/users/{id}", get(get_user))
        .route("/health", get(health))
        .route("/metrics", get(metrics));
    if state.admin_token.is_some() {
        router = router.route("/admin/breakers/{name}/{action}", post(admin));
    }
    router.with_state(state)
}

/// The body of `POST /users`.
#[derive(Debug, serde::Deserialize)]
pub struct NewUser {
    name: String,
    email: String,
}

async fn create_user(
    State(state): State<AppState>,
    Json(new): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let user = state.db.create_user(&new.name, &new.email).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

async fn get_user(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<User>, ApiError> {
    match state.db.user(id).await? {
        Some(user) => Ok(Json(user)),
        None => Err(ApiError::NotFound(id)),
    }
}

async fn health(State(state): State<AppState>) -> Response {
    circuit_core::axum::health_response(state.registry)
}

async fn metrics(State(state): State<AppState>) -> Response {
    circuit_core::axum::metrics_response(state.registry)
}

/// `POST /admin/breakers/{name}/reset` (or `force-open`, `disable`).
async fn admin(
    State(state): State<AppState>,
    Path((name, action)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let expected = state.admin_token.as_deref().unwrap_or_default();
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !given.is_some_and(|token| same_secret(token, expected)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(
                json!({"detail": "a valid bearer token is required", "error_code": "UNAUTHORIZED"}),
            ),
        )
            .into_response();
    }
    let done = match action.as_str() {
        "reset" => state.registry.reset(&name),
        "force-open" => state.registry.force_open(&name),
        "disable" => state.registry.disable(&name),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match done {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(unknown) => (
            StatusCode::NOT_FOUND,
            Json(json!({"detail": unknown.to_string(), "error_code": "UNKNOWN_BREAKER"})),
        )
            .into_response(),
    }
}

/// Compares a token without stopping at the first difference, so that the time taken does
/// not tell an attacker how much of a guess was right.
fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// What a user route answers when it cannot answer with a user.
#[derive(Debug)]
pub enum ApiError {
    /// `GET /users/{id}` of a user that does not exist.
    NotFound(i64),
    /// The database, or its breaker.
    Db(DbError),
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        ApiError::Db(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let answer = |status: StatusCode, code: &str, detail: String| {
            (status, Json(json!({"detail": detail, "error_code": code}))).into_response()
        };
        match self {
            ApiError::NotFound(id) => answer(
                StatusCode::NOT_FOUND,
                "USER_NOT_FOUND",
                format!("no user has id {id}"),
            ),
            ApiError::Db(DbError::Unavailable(open)) => CircuitOpenResponse::new(open)
                .detail("Database service is temporarily unavailable")
                .into_response(),
            ApiError::Db(DbError::TimedOut(timed_out)) => timed_out.into_response(),
            ApiError::Db(DbError::Sqlx(error)) => {
                let unique = error
                    .as_database_error()
                    .is_some_and(|db| db.is_unique_violation());
                if unique {
                    answer(
                        StatusCode::CONFLICT,
                        "EMAIL_TAKEN",
                        "a user with this email exists".into(),
                    )
                } else if circuit_core::sqlx::is_infrastructure_error(&error) {
                    answer(
                        StatusCode::SERVICE_UNAVAILABLE,
                        DB_UNAVAILABLE_CODE,
                        format!("the database failed: {error}"),
                    )
                } else {
                    answer(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "DB_ERROR",
                        format!("the database refused the request: {error}"),
                    )
                }
            }
        }
    }
}
