//! No orphan queries: the guard that cancels a running query unless it ended by itself.

use super::*;

/// Holds the id of a running query; cancels it unless disarmed. Dropped
/// while armed, it cancels from a task on the current tokio runtime, tracked
/// by the client ([`Client::finish_cleanup`]).
pub(super) struct CancelGuard {
    pub(super) client: Client,
    pub(super) id: String,
    pub(super) armed: bool,
}

impl CancelGuard {
    pub(super) fn new(client: &Client, id: String) -> Self {
        CancelGuard {
            client: client.clone(),
            id,
            armed: true,
        }
    }

    /// The query ended by itself: nothing to cancel.
    pub(super) fn disarm(&mut self) {
        self.armed = false;
    }

    /// Cancels the query now (once).
    pub(super) async fn cancel(&mut self) {
        if std::mem::replace(&mut self.armed, false) {
            cancel_query(&self.client, &self.id).await;
        }
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let client = self.client.clone();
        let id = self.id.clone();
        info!(query_id = %id, "query abandoned while running; cancelling it");
        if !self
            .client
            .spawn_cleanup(async move { cancel_query(&client, &id).await })
        {
            warn!(
                query_id = %self.id,
                "query abandoned outside a tokio runtime; it could not be cancelled"
            );
        }
    }
}

/// `dv/cancel-query`; a failure is logged, not returned (the caller is
/// already failing or gone).
pub(super) async fn cancel_query(client: &Client, id: &str) {
    let body = types::DeepVisibilityQueryIdRequest {
        query_id: id.to_string(),
    };
    match client.cancel_dv_query().body(body).call().await {
        Ok(_) => info!(query_id = id, "query cancelled"),
        Err(e) => warn!(query_id = id, error = %e, "could not cancel the query"),
    }
}
