//! Threats or alerts created in a time window, newest first, as a stream
//! (D3 "Fetch Detection"): the intake a SOAR polls on a schedule.
//!
//! ```no_run
//! use chrono::{Duration, Utc};
//! use futures_util::TryStreamExt;
//! use sentinelone::detections::{Detection, DetectionWindow};
//!
//! # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
//! let window = DetectionWindow::new(Utc::now() - Duration::hours(1), Utc::now()).limit(100);
//! let mut stream = client.detections().fetch(&window)?;
//! while let Some(event) = stream.try_next().await? {
//!     if let Detection::Threat(threat) = event {
//!         println!("{:?}", threat.id);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use chrono::{DateTime, Utc};
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};

use crate::pagination::{self, Prefetch};
use crate::prelude::*;
use crate::raw::types::{
    AlertInformationListResponseDataItem, ListAlertsSortBy, ListAlertsSortOrder, ListThreatsSortBy,
    ListThreatsSortOrder, ThreatListResponseDataItem,
};
use crate::{Client, Error, validate};

/// Detections, reached from the client with [`Client::detections`].
///
/// ```no_run
/// # fn demo(client: &sentinelone::Client) {
/// let detections = client.detections();
/// # let _ = detections;
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Detections<'c> {
    client: &'c Client,
}

impl Client {
    /// Detections: threats or alerts created in a time window.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use chrono::{Duration, Utc};
    /// use sentinelone::detections::DetectionWindow;
    /// let stream = client.detections().fetch(&DetectionWindow::new(Utc::now() - Duration::hours(1), Utc::now()))?;
    /// # drop(stream);
    /// # Ok(())
    /// # }
    /// ```
    pub fn detections(&self) -> Detections<'_> {
        Detections { client: self }
    }
}

impl<'c> Detections<'c> {
    /// Streams the events of `window`, page by page as they are read. The
    /// window is checked first: an empty time range, a limit outside
    /// 1..=1000, or alerts ordered by update time are refused before anything
    /// is sent.
    pub fn fetch(
        self,
        window: &DetectionWindow,
    ) -> Result<BoxStream<'c, Result<Detection, Error>>, Error> {
        fetch(self.client, window)
    }
}

/// Most events one fetch returns, and its default.
pub const MAX_DETECTIONS: u32 = 1000;

/// Which kind of event to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DetectionSource {
    /// Threats (`GET /threats`), the default.
    #[default]
    Threats,
    /// STAR / custom-rule alerts (`GET /cloud-detection/alerts`).
    Alerts,
}

/// The field events are ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortField {
    /// Creation time, the default.
    #[default]
    CreatedAt,
    /// Last update time (threats only).
    UpdatedAt,
    /// Id.
    Id,
}

/// One fetched event.
#[derive(Debug, Clone)]
pub enum Detection {
    /// A threat, as `GET /threats` lists it.
    Threat(Box<ThreatListResponseDataItem>),
    /// An alert, as `GET /cloud-detection/alerts` lists it.
    Alert(Box<AlertInformationListResponseDataItem>),
}

/// What to fetch: events created in `[from, to)`, at most `limit`, newest
/// first unless told otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectionWindow {
    source: DetectionSource,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u32,
    sort: SortField,
    ascending: bool,
}

impl DetectionWindow {
    /// Threats created from `from` (included) to `to` (excluded), up to
    /// [`MAX_DETECTIONS`], newest first.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        DetectionWindow {
            source: DetectionSource::Threats,
            from,
            to,
            limit: MAX_DETECTIONS,
            sort: SortField::CreatedAt,
            ascending: false,
        }
    }

    /// Threats or alerts.
    pub fn source(mut self, source: DetectionSource) -> Self {
        self.source = source;
        self
    }

    /// At most `limit` events, 1 to [`MAX_DETECTIONS`].
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// Order by this field.
    pub fn sort_by(mut self, field: SortField) -> Self {
        self.sort = field;
        self
    }

    /// Oldest first instead of newest first.
    pub fn ascending(mut self, ascending: bool) -> Self {
        self.ascending = ascending;
        self
    }

    fn check(&self) -> Result<(), Error> {
        validate::time_range(&self.from, &self.to)?;
        validate::in_range("limit", self.limit, 1, MAX_DETECTIONS)?;
        if self.source == DetectionSource::Alerts && self.sort == SortField::UpdatedAt {
            return Err(Error::invalid(
                "sort_by: alerts cannot be ordered by update time (use CreatedAt or Id)",
            ));
        }
        Ok(())
    }
}

/// The body of [`Detections::fetch`].
fn fetch<'a>(
    client: &'a Client,
    window: &DetectionWindow,
) -> Result<BoxStream<'a, Result<Detection, Error>>, Error> {
    window.check()?;
    let limit = window.limit as usize;
    // One page holds all that is taken: a page read ahead would be unused.
    let page = window.limit;
    Ok(match window.source {
        DetectionSource::Threats => {
            let request = client
                .list_threats()
                .created_at_gte(window.from)
                .created_at_lt(window.to)
                .sort_by(match window.sort {
                    SortField::CreatedAt => ListThreatsSortBy::CreatedAt,
                    SortField::UpdatedAt => ListThreatsSortBy::UpdatedAt,
                    SortField::Id => ListThreatsSortBy::Id,
                })
                .sort_order(if window.ascending {
                    ListThreatsSortOrder::Asc
                } else {
                    ListThreatsSortOrder::Desc
                });
            pagination::items_with(request, page, Prefetch::Off)
                .map_ok(|t| Detection::Threat(Box::new(t)))
                .take(limit)
                .boxed()
        }
        DetectionSource::Alerts => {
            let request = client
                .list_alerts()
                .created_at_gte(window.from)
                .created_at_lt(window.to)
                .sort_by(match window.sort {
                    SortField::Id => ListAlertsSortBy::Id,
                    _ => ListAlertsSortBy::AlertInfoCreatedAt,
                })
                .sort_order(if window.ascending {
                    ListAlertsSortOrder::Asc
                } else {
                    ListAlertsSortOrder::Desc
                });
            pagination::items_with(request, page, Prefetch::Off)
                .map_ok(|a| Detection::Alert(Box::new(a)))
                .take(limit)
                .boxed()
        }
    })
}
