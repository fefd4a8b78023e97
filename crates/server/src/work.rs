//! Model work on the blocking pool: a slot from the semaphore, the model timeout, and
//! cancellation of work that watches a flag when its request times out or goes away.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;

#[allow(clippy::wildcard_imports)]
use crate::*;

/// Runs `work` on the blocking pool, waiting for a model slot, for at most the model timeout
/// ([`MODEL_TIMEOUT`]). Work that cannot be cancelled runs on after a timeout; see
/// [`blocking_cancellable`].
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Inner) -> T + Send + 'static,
) -> ApiResult<T> {
    run_blocking(state, None, move |inner, _| work(inner)).await
}

/// [`blocking`] for work that watches a cancellation flag: the flag is set when the request
/// times out (or is dropped, e.g. the client went away), and the answer waits up to
/// [`CANCEL_GRACE`] for the work to stop, so the slots it holds are free again when the 503 is
/// sent.
pub(crate) async fn blocking_cancellable<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Inner, &AtomicBool) -> T + Send + 'static,
) -> ApiResult<T> {
    run_blocking(state, Some(CANCEL_GRACE), work).await
}

/// Sets the flag when dropped: a handler future dropped mid-request cancels its work.
pub(crate) struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

pub(crate) async fn run_blocking<T: Send + 'static>(
    state: &AppState,
    grace: Option<Duration>,
    work: impl FnOnce(&Inner, &AtomicBool) -> T + Send + 'static,
) -> ApiResult<T> {
    let inner = state.inner.clone();
    let timeout = inner.model_timeout();
    let deadline = tokio::time::Instant::now() + timeout;
    let cancel = Arc::new(AtomicBool::new(false));
    let _cancel_on_drop = CancelOnDrop(cancel.clone());
    let timed_out = || {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the request took longer than {} s and was abandoned\n  fix: make it smaller (fewer tranches, a shorter horizon, fewer accelerators), or run it with the CLI",
                timeout.as_secs_f64()
            ),
        )
    };
    let slot = inner.model_slots.clone().acquire_owned();
    let permit = match tokio::time::timeout_at(deadline, slot).await {
        Ok(Ok(permit)) => permit,
        Ok(Err(_)) => return Err(ApiError::internal("the server is shutting down")),
        Err(_) => return Err(timed_out()),
    };
    let flag = cancel.clone();
    let mut task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work(&inner, &flag)
    });
    match tokio::time::timeout_at(deadline, &mut task).await {
        Ok(joined) => joined.map_err(|e| ApiError::internal(format!("the model failed: {e}"))),
        Err(_) => {
            cancel.store(true, Ordering::Relaxed);
            if let Some(grace) = grace {
                // The work stops at its next check; its result, if any, is dropped.
                let _ = tokio::time::timeout(grace, task).await;
            }
            Err(timed_out())
        }
    }
}
