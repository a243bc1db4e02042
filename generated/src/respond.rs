//! What every operation does once its request is built: run it through the
//! client's hooks and transport, then read the answer by status. Each
//! builder's `send` (rewritten by codegen's `sends` pass) hands its request
//! to one of [`json`], [`stream`] or [`empty`], so this logic is typed and
//! compiled once instead of once per operation.

use progenitor_client::{ByteStream, ClientHooks, Error, OperationInfo, ResponseValue};
use serde::de::DeserializeOwned;

use crate::Client;
use crate::types::ApiError;

/// A built request, or why it could not be built (a missing parameter, a
/// body that did not convert).
pub(crate) type Built = Result<reqwest::Request, Error<ApiError>>;

/// Sends `request` through the hooks; the raw response, whatever its status.
async fn exchange(
    client: &Client,
    request: Built,
    operation_id: &'static str,
) -> Result<reqwest::Response, Error<ApiError>> {
    let mut request = request?;
    let info = OperationInfo { operation_id };
    client.pre(&mut request, &info).await?;
    let result = client.exec(request, &info).await;
    client.post(&result, &info).await?;
    Ok(result?)
}

/// A response that is not the operation's success: the console's error
/// document for a 4xx or 5xx, the response itself otherwise.
async fn failure<T>(response: reqwest::Response) -> Result<ResponseValue<T>, Error<ApiError>> {
    match response.status().as_u16() {
        400..=599 => Err(Error::ErrorResponse(
            ResponseValue::from_response(response).await?,
        )),
        _ => Err(Error::UnexpectedResponse(response)),
    }
}

/// An operation that answers 200 with a JSON document of type `T`.
pub(crate) async fn json<T: DeserializeOwned>(
    client: &Client,
    request: Built,
    operation_id: &'static str,
) -> Result<ResponseValue<T>, Error<ApiError>> {
    let response = exchange(client, request, operation_id).await?;
    match response.status().as_u16() {
        200 => ResponseValue::from_response(response).await,
        _ => failure(response).await,
    }
}

/// An operation that answers 200 with bytes (a file), streamed.
pub(crate) async fn stream(
    client: &Client,
    request: Built,
    operation_id: &'static str,
) -> Result<ResponseValue<ByteStream>, Error<ApiError>> {
    let response = exchange(client, request, operation_id).await?;
    match response.status().as_u16() {
        200 => Ok(ResponseValue::stream(response)),
        _ => failure(response).await,
    }
}

/// An operation that answers 204 with nothing.
pub(crate) async fn empty(
    client: &Client,
    request: Built,
    operation_id: &'static str,
) -> Result<ResponseValue<()>, Error<ApiError>> {
    let response = exchange(client, request, operation_id).await?;
    match response.status().as_u16() {
        204 => Ok(ResponseValue::empty(response)),
        _ => failure(response).await,
    }
}
