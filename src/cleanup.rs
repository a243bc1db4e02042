//! Clean-up work the library starts in the background when an operation is
//! abandoned (a Deep Visibility query cancelled from a drop guard), and the
//! way to wait for it before the runtime goes away
//! ([`Client::finish_cleanup`]).

use std::future::Future;
use std::time::Duration;

use tokio_util::task::TaskTracker;

use crate::Client;

/// The clean-up tasks of one client and its clones.
#[derive(Clone, Default)]
pub(crate) struct Cleanup(TaskTracker);

impl Cleanup {
    /// Runs `work` on the current tokio runtime, tracked until it ends.
    /// Returns `false` (and drops `work`) outside a runtime.
    pub(crate) fn spawn<F>(&self, work: F) -> bool
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                self.0.spawn_on(work, &runtime);
                true
            }
            Err(_) => false,
        }
    }
}

impl Client {
    /// Waits, at most `timeout`, for the clean-up work this client (or a
    /// clone) started in the background to end: the `dv/cancel-query` of a
    /// query whose wait was dropped, for instance. Returns `true` when
    /// nothing is left running.
    ///
    /// A future dropped half-way (by `select!`, a timeout, an aborted task)
    /// cleans up from a task spawned on the runtime; a program that is about
    /// to exit calls this first, or the runtime may shut down before that
    /// task has done its work.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use sentinelone::dv::DvQuery;
    ///
    /// # async fn demo(client: &sentinelone::Client, query: DvQuery) {
    /// tokio::select! {
    ///     result = client.dv().query(&query) => println!("{:?}", result.map(|r| r.events.len())),
    ///     _ = tokio::time::sleep(Duration::from_secs(30)) => eprintln!("giving up on the query"),
    /// }
    /// // The query future is gone; its cancellation runs in the background.
    /// client.finish_cleanup(Duration::from_secs(3)).await;
    /// # }
    /// ```
    pub async fn finish_cleanup(&self, timeout: Duration) -> bool {
        let tasks = &self.cleanup.0;
        tasks.close();
        let done = tokio::time::timeout(timeout, tasks.wait()).await.is_ok();
        tasks.reopen();
        done
    }

    /// Runs `work` in the background, tracked for
    /// [`Client::finish_cleanup`]; `false` outside a tokio runtime.
    pub(crate) fn spawn_cleanup<F>(&self, work: F) -> bool
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.cleanup.spawn(work)
    }
}
