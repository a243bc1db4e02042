//! Power Query: one call that runs it and returns its table.

use super::*;

impl<'c> Dv<'c> {
    /// Runs a Power Query to its end (D3 "Create Power Query" then "Ping Power
    /// Query"): creates it (`dv/events/pq`) and, unless that answer is already
    /// final, pings it (`dv/events/pq-ping`) per the polling until it
    /// finishes. Any state but running or finished gives
    /// [`Error::JobFailed`]; when the polling's timeout passes, the query is
    /// cancelled (`dv/cancel-query`) and [`Error::WaitTimeout`] returned.
    ///
    /// ```no_run
    /// use chrono::{TimeDelta, Utc};
    /// use sentinelone::dv::PowerQuery;
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let now = Utc::now();
    /// let request = PowerQuery::new(
    ///     "event.type = 'Process Creation' | group count() by agent.uuid",
    ///     now - TimeDelta::days(1),
    ///     now,
    /// );
    /// let table = client.dv().power_query(&request).await?;
    /// let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    /// println!("{names:?}: {} rows", table.rows.len());
    /// # Ok(())
    /// # }
    /// ```
    #[deprecated(
        since = "0.1.0",
        note = "Deep Visibility query endpoints are sunset on 2027-02-15; use client.lrq().power_query"
    )]
    pub async fn power_query(self, request: &PowerQuery) -> Result<PowerQueryTable, Error> {
        power_query(self.client, request).await
    }
}

/// The body of [`Dv::power_query`].
pub(super) async fn power_query(
    client: &Client,
    request: &PowerQuery,
) -> Result<PowerQueryTable, Error> {
    let body = request.body()?;
    let created = client.create_power_query().body(body).call().await?;
    let first = pq_answer("create_power_query", created, None)?;
    let id = first.0.query_id.clone();
    info!(query_id = %id, "Power Query started");
    let mut guard = CancelGuard::new(client, id.clone());
    let job = format!("Power Query {id}");
    let id = id.as_str();
    let (_, table) = settle(
        &mut guard,
        &request.watch,
        &job,
        Some(first),
        move || async move {
            let answer = client.ping_power_query().query_id(id).call().await?;
            pq_answer("ping_power_query", answer, Some(id))
        },
    )
    .await?;
    Ok(table)
}

/// Reads a Power Query answer: its status, and the table it carries.
/// `known_id` is the id that was pinged (the answer's own is used when
/// there is none).
pub(super) fn pq_answer(
    operation: &str,
    response: types::DeepVisibilityPowerQueriesResponse,
    known_id: Option<&str>,
) -> Result<(QueryStatus, PowerQueryTable), Error> {
    let Some(data) = response.data.as_ref() else {
        return Err(missing(operation, &response, "data"));
    };
    let Some(state) = data.status.as_deref() else {
        return Err(missing(operation, &response, "data.status"));
    };
    let query_id = known_id
        .map(str::to_string)
        .or_else(|| data.query_id.clone().filter(|id| !id.trim().is_empty()))
        .ok_or_else(|| missing(operation, &response, "data.queryId"))?;
    let status = QueryStatus {
        query_id: query_id.clone(),
        state: QueryState::parse(state),
        progress: data.progress,
        error: error_text(response.errors.as_deref()),
        warnings: None,
    };
    let data = response.data.unwrap_or_default();
    let table = PowerQueryTable {
        query_id,
        columns: data
            .columns
            .unwrap_or_default()
            .iter()
            .map(column)
            .collect(),
        rows: data.data.unwrap_or_default(),
        recommendations: data.recommendations.unwrap_or_default(),
    };
    Ok((status, table))
}

/// A column as the console describes it: `{"name": …, "type": …}`.
pub(super) fn column(map: &serde_json::Map<String, Value>) -> Column {
    let text = |key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Column {
        name: text("name"),
        kind: text("type"),
    }
}
