//! The few csms REST calls the scenarios make (`/v1.1`, Bearer key).

use std::time::Duration;

use serde_json::{json, Value};

use crate::error::{BenchError, BenchResult};

/// A REST client for one csms.
#[derive(Clone)]
pub struct Rest {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Rest {
    /// A client for the API at `base` (`http://127.0.0.1:port`) with API key `key`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(base: impl Into<String>, key: impl Into<String>) -> BenchResult<Rest> {
        Ok(Rest {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(256)
                // Below csms's keep-alive (actix-web's 5 s): a connection idle that long
                // (a fleet booting between two runs) could be closed by the server just
                // as a request goes out on it, failing the request ("error sending
                // request"; seen once in a full run on PostgreSQL).
                .pool_idle_timeout(Duration::from_secs(2))
                .build()?,
            base: base.into(),
            key: key.into(),
        })
    }

    /// `GET /ready` answered 200.
    pub async fn ready(&self) -> bool {
        self.client
            .get(format!("{}/ready", self.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> BenchResult<(Value, Option<u64>)> {
        let response = request.bearer_auth(&self.key).send().await?;
        let status = response.status();
        let total = response
            .headers()
            .get("x-total-count")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(BenchError::failed(format!("{what}: HTTP {status}: {body}")));
        }
        Ok((body["result"].clone(), total))
    }

    /// A counter or gauge of `GET /metrics` (Prometheus text), `None` when absent.
    ///
    /// # Errors
    /// When the request fails.
    pub async fn metric(&self, name: &str) -> BenchResult<Option<f64>> {
        let text = self
            .client
            .get(format!("{}/metrics", self.base))
            .bearer_auth(&self.key)
            .send()
            .await?
            .text()
            .await?;
        Ok(text.lines().find_map(|line| {
            let (metric, value) = line.split_once(' ')?;
            (metric == name)
                .then(|| value.trim().parse().ok())
                .flatten()
        }))
    }

    /// How many chargestations match `query` (`online=true`, ...): `X-Total-Count`.
    ///
    /// # Errors
    /// When the request fails.
    pub async fn count_stations(&self, query: &str) -> BenchResult<u64> {
        let url = format!("{}/v1.1/chargestations?paginate_limit=1&{query}", self.base);
        let (_, total) = self
            .send(self.client.get(url), "list chargestations")
            .await?;
        total.ok_or_else(|| BenchError::failed("list chargestations: no X-Total-Count"))
    }

    /// Every chargestation, read 1,000 at a time.
    ///
    /// # Errors
    /// When a request fails.
    pub async fn all_stations(&self) -> BenchResult<Vec<Value>> {
        let mut all = Vec::new();
        for page in 1.. {
            let url = format!(
                "{}/v1.1/chargestations?paginate_limit=1000&paginate_page={page}&sort_order=asc",
                self.base
            );
            let (result, _) = self
                .send(self.client.get(url), "list chargestations")
                .await?;
            let rows = result.as_array().cloned().unwrap_or_default();
            let last = rows.len() < 1000;
            all.extend(rows);
            if last {
                break;
            }
        }
        Ok(all)
    }

    /// `POST /v1.1/chargestations/{id}/configurations {key, value}`: the action `_id`.
    ///
    /// # Errors
    /// When csms refuses the change.
    pub async fn change_configuration(
        &self,
        station: &str,
        key: &str,
        value: &str,
    ) -> BenchResult<String> {
        let url = format!("{}/v1.1/chargestations/{station}/configurations", self.base);
        let (action, _) = self
            .send(
                self.client
                    .post(url)
                    .json(&json!({"key": key, "value": value})),
                "change configuration",
            )
            .await?;
        action_id(&action)
    }

    /// `GET /v1.1/chargestations/{id}/configurations` (a full upload): the action `_id`.
    ///
    /// # Errors
    /// When csms refuses the upload.
    pub async fn request_upload(&self, station: &str) -> BenchResult<String> {
        let url = format!("{}/v1.1/chargestations/{station}/configurations", self.base);
        let (action, _) = self
            .send(self.client.get(url), "configuration upload")
            .await?;
        action_id(&action)
    }

    /// `GET /v1.1/chargestations/{id}`.
    ///
    /// # Errors
    /// When the request fails.
    pub async fn station(&self, station: &str) -> BenchResult<Value> {
        let url = format!("{}/v1.1/chargestations/{station}", self.base);
        Ok(self
            .send(self.client.get(url), "get chargestation")
            .await?
            .0)
    }
}

fn action_id(action: &Value) -> BenchResult<String> {
    action["_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| BenchError::failed(format!("no action _id in {action}")))
}
