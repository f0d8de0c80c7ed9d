//! The chargers list and one charger's page, with the forms that queue configuration
//! commands through the dispatcher (the functions the `/v1.1` configuration routes call).

use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use dispatcher::commands::{change_configuration, get_configuration};
use model::actions::{self, Action};
use model::chargestations::{self, Chargestation, ListFilter};
use model::config;
use model::message_log::{self, Message};
use model::page::Page;
use serde_json::Value;

use super::html::{self, escape, BannerKind, Section};
use super::{check_same_origin, respond, see_other, session, ConsoleError};
use crate::auth::percent_encode;
use crate::body::Query;
use crate::error::ApiError;
use crate::ApiState;

/// The most chargers the list shows.
const LIST_LIMIT: u64 = 1000;
/// Actions shown on a charger's page.
const ACTIONS_SHOWN: u64 = 25;
/// Longest request or answer text shown in the actions table.
const CELL_CHARS: usize = 300;
/// Up to this many chargers, the list shows each one's last logged frame (one indexed
/// query each); above it, only the time of the last message.
const LAST_FRAME_LOOKUPS: usize = 200;

/// `GET /console`: every charger with its online state and when it was last heard.
pub async fn list(state: web::Data<ApiState>, req: HttpRequest) -> HttpResponse {
    respond(list_page(&state, &req).await)
}

async fn list_page(state: &ApiState, req: &HttpRequest) -> Result<HttpResponse, ConsoleError> {
    session::require(state, req).await?;
    let page = Page {
        limit: LIST_LIMIT,
        descending: false,
        ..Page::default()
    };
    let (stations, total) = chargestations::list(&state.db, &ListFilter::default(), &page)
        .await
        .map_err(ApiError::from)?;
    let online = stations.iter().filter(|s| s.online && s.active).count();
    let mut rows = String::new();
    for station in &stations {
        let last_frame = if stations.len() <= LAST_FRAME_LOOKUPS {
            last_frame(state, &station.id).await?
        } else {
            None
        };
        rows.push_str(&list_row(station, last_frame.as_ref()));
    }
    let table = if stations.is_empty() {
        r#"<p class="empty">No chargers yet. Create one with <code>POST /v1.1/chargestations</code> (or start the server with <code>CSMS_AUTO_REGISTER=true</code>) and point it at the OCPP listener.</p>"#.to_owned()
    } else {
        format!(
            r#"<table class="chargers"><thead><tr><th>Identity</th><th>State</th><th>Vendor</th><th>Model</th><th>Firmware</th><th>Last message</th><th>Last frame</th><th>Last connected</th><th>Boots</th></tr></thead><tbody>{rows}</tbody></table>"#
        )
    };
    let shown = if total > stations.len() as u64 {
        format!(" The first {} are shown.", stations.len())
    } else {
        String::new()
    };
    let main = format!(
        r#"<h1>Chargers</h1><p class="summary">{total} charger(s), <span id="online-count">{online}</span> online.{shown}</p>{table}"#
    );
    Ok(html::page(
        StatusCode::OK,
        Section::Chargers,
        "Chargers",
        "",
        &main,
    ))
}

fn boot_field(station: &Chargestation, field: &str) -> String {
    station
        .boot_info
        .as_ref()
        .and_then(|b| b.get(field))
        .map_or_else(|| "—".to_owned(), |v| escape(&html::json_text(v)))
}

fn state_badge(station: &Chargestation) -> String {
    let (class, text) = match (station.active, station.online) {
        (false, _) => ("inactive", "inactive"),
        (true, true) => ("online", "online"),
        (true, false) => ("offline", "offline"),
    };
    format!(r#"<span class="state {class}">{text}</span>"#)
}

/// The newest frame in the station's message log, if any.
async fn last_frame(state: &ApiState, station_id: &str) -> Result<Option<Message>, ConsoleError> {
    let filter = message_log::ListFilter {
        chargestation_id: station_id.to_owned(),
        ..message_log::ListFilter::default()
    };
    let page = Page {
        limit: 1,
        ..Page::default()
    };
    let (mut frames, _) = message_log::list(&state.db, &filter, &page)
        .await
        .map_err(ApiError::from)?;
    Ok(frames.pop())
}

/// `in · CALL · Heartbeat`: a frame in a few words (escaped).
fn frame_summary(frame: &Message) -> String {
    let mut parts = vec![frame.direction.as_str()];
    if let Some(kind) = frame.frame_type {
        parts.push(kind.as_str());
    }
    if let Some(action) = &frame.action {
        parts.push(action);
    }
    escape(&parts.join(" · "))
}

fn list_row(station: &Chargestation, last_frame: Option<&Message>) -> String {
    format!(
        r#"<tr data-station-id="{id}" data-identity="{identity}"><td><a href="/console/chargestations/{link}">{identity}</a></td><td class="state-cell">{state}</td><td>{vendor}</td><td>{model}</td><td>{firmware}</td><td class="last-message">{last}</td><td class="last-frame">{frame}</td><td>{connected}</td><td>{boots}</td></tr>"#,
        id = escape(&station.id),
        identity = escape(&station.endpoint),
        link = escape(&percent_encode(&station.id)),
        state = state_badge(station),
        vendor = boot_field(station, "chargePointVendor"),
        model = boot_field(station, "chargePointModel"),
        firmware = boot_field(station, "firmwareVersion"),
        last = html::time(station.last_message_at),
        frame = last_frame.map_or_else(|| "—".to_owned(), frame_summary),
        connected = html::time(station.last_connect_at),
        boots = station.boot_count,
    )
}

/// `GET /console/chargestations/{id}`: boot info, connectors, configuration with drift,
/// the forms, the action history and the live message log.
pub async fn station(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let notice = notice(&Query::parse(req.query_string()));
    respond(
        async {
            session::require(&state, &req).await?;
            station_page(&state, &id, notice.as_deref(), None).await
        }
        .await,
    )
}

/// The notice for `?done=` after a form was handled (fixed texts: nothing from the
/// query string is shown).
fn notice(query: &Query) -> Option<String> {
    let count = query
        .get("n")
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(1);
    match query.get("done")? {
        "change" => Some("Configuration change queued; its outcome appears under Actions.".into()),
        "upload" => {
            Some("Configuration upload requested; the page reloads once it completes.".into())
        }
        "apply" if count == 0 => {
            Some("Nothing to apply: no writable key drifts from the desired profile.".into())
        }
        "apply" => Some(format!(
            "{count} change(s) queued to apply the desired profile."
        )),
        _ => None,
    }
}

/// Renders a charger's page; `problem` (status and message) re-renders it after a form
/// was refused.
async fn station_page(
    state: &ApiState,
    id: &str,
    notice: Option<&str>,
    problem: Option<(StatusCode, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let station = chargestations::get(&state.db, id)
        .await
        .map_err(ApiError::from)?;
    let filter = actions::ListFilter {
        chargestation_id: Some(station.id.clone()),
        action_type: None,
        status: None,
    };
    let page = Page {
        limit: ACTIONS_SHOWN,
        ..Page::default()
    };
    let (history, _) = actions::list(&state.db, &filter, &page)
        .await
        .map_err(ApiError::from)?;
    let status = problem.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let banners = notice
        .map(|n| html::banner(BannerKind::Notice, n))
        .into_iter()
        .chain(problem.map(|(_, m)| html::banner(BannerKind::Error, &m)))
        .collect::<String>();
    let main = format!(
        r#"<h1>{identity} {state}</h1>
{banners}
<p class="summary">Last message {last}, connected {connected}, disconnected {disconnected}, {boots} boot(s){held}.</p>
<div class="columns">
<section id="boot"><h2>Boot information</h2>{boot}</section>
<section id="connectors"><h2>Connectors</h2>{connectors}</section>
</div>
{configuration}
<section id="actions"><h2>Actions</h2>{actions}</section>
{messages}"#,
        identity = escape(&station.endpoint),
        state = state_badge(&station),
        last = html::time(station.last_message_at),
        connected = html::time(station.last_connect_at),
        disconnected = html::time(station.last_disconnect_at),
        boots = station.boot_count,
        held = if station.queue_held {
            ", queue held until a reset"
        } else {
            ""
        },
        boot = boot_table(&station),
        connectors = connectors_table(&station),
        configuration = configuration_section(state, &station),
        actions = actions_table(&history),
        messages = MESSAGE_LOG,
    );
    let attributes = format!(r#" data-station="{}""#, escape(&station.id));
    Ok(html::page(
        status,
        Section::Station,
        &station.endpoint,
        &attributes,
        &main,
    ))
}

fn boot_table(station: &Chargestation) -> String {
    let Some(Value::Object(fields)) = &station.boot_info else {
        return r#"<p class="empty">No BootNotification yet.</p>"#.to_owned();
    };
    let rows: String = fields
        .iter()
        .map(|(name, value)| {
            format!(
                "<tr><th>{}</th><td>{}</td></tr>",
                escape(name),
                escape(&html::json_text(value))
            )
        })
        .collect();
    format!(r#"<table class="pairs">{rows}</table>"#)
}

fn connectors_table(station: &Chargestation) -> String {
    if station.connectors.is_empty() {
        return r#"<p class="empty">No StatusNotification yet.</p>"#.to_owned();
    }
    let rows: String = station
        .connectors
        .iter()
        .map(|c| {
            format!(
                r#"<tr><td>{}</td><td><span class="status">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                c.connector_id,
                escape(&c.status),
                escape(&c.error_code),
                escape(c.info.as_deref().unwrap_or("")),
                escape(c.vendor_error_code.as_deref().unwrap_or("")),
                escape(&c.timestamp),
            )
        })
        .collect();
    format!(
        r#"<table><thead><tr><th>Connector</th><th>Status</th><th>Error code</th><th>Info</th><th>Vendor error</th><th>Since</th></tr></thead><tbody>{rows}</tbody></table>"#
    )
}

fn configuration_section(state: &ApiState, station: &Chargestation) -> String {
    let link = escape(&percent_encode(&station.id));
    let snapshot = station.configuration.clone().unwrap_or_default();
    let profile = state.dispatcher.desired_profile();
    let drifted: HashSet<String> = config::drift(&snapshot, profile)
        .into_iter()
        .map(|d| d.key)
        .collect();
    let table = if station.configuration.is_none() {
        r#"<p class="empty">No configuration upload yet: request one.</p>"#.to_owned()
    } else {
        let rows: String = config::details(&snapshot, profile)
            .iter()
            .map(|row| {
                let drift = drifted.contains(&row.name);
                format!(
                    r#"<tr data-key="{name}"{class}><td><button type="button" class="use-key" data-key="{name}" title="Fill the form with this key">{name}</button></td><td>{category}</td><td class="value">{value}</td><td>{desired}</td><td>{drift_text}</td><td>{writable}</td><td title="{description}">{editable}</td></tr>"#,
                    name = escape(&row.name),
                    class = if drift { r#" class="drift""# } else { "" },
                    category = escape(&row.category),
                    value = escape(&row.value),
                    desired = row
                        .desired_value
                        .as_ref()
                        .map_or_else(String::new, |v| escape(&html::json_text(v))),
                    drift_text = if drift { "drift" } else { "" },
                    writable = if row.writable { "writable" } else { "read-only" },
                    editable = if row.editable { "" } else { "enforced" },
                    description = escape(&row.description),
                )
            })
            .collect();
        format!(
            r#"<div class="scroll"><table class="configuration"><thead><tr><th>Key</th><th>Category</th><th>Value</th><th>Desired</th><th>Drift</th><th>Access</th><th>Profile</th></tr></thead><tbody>{rows}</tbody></table></div>"#
        )
    };
    format!(
        r#"<section id="configuration"><h2>Configuration</h2>
<div class="forms">
<form method="post" action="/console/chargestations/{link}/configuration" class="change-key">
<label for="change-key">Key</label><input id="change-key" name="key" required maxlength="50" autocomplete="off">
<label for="change-value">Value</label><input id="change-value" name="value" maxlength="500" autocomplete="off">
<button type="submit">Change key</button>
</form>
<form method="post" action="/console/chargestations/{link}/upload"><button type="submit" id="request-upload">Request upload</button></form>
<form method="post" action="/console/chargestations/{link}/apply_desired"><button type="submit" id="apply-desired">Apply desired profile ({drift_count} drifted)</button></form>
</div>
{table}
</section>"#,
        drift_count = drifted.len(),
    )
}

fn short(text: &str) -> String {
    if text.chars().count() <= CELL_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(CELL_CHARS).collect();
    cut.push('…');
    cut
}

fn actions_table(history: &[Action]) -> String {
    if history.is_empty() {
        return r#"<p class="empty">No actions yet.</p>"#.to_owned();
    }
    let rows: String = history
        .iter()
        .map(|a| {
            let kind = a
                .action_type
                .strip_prefix("chargestation.")
                .unwrap_or(&a.action_type);
            let status = a.status.as_str();
            let answer = a
                .response_data
                .as_ref()
                .map_or_else(String::new, |r| escape(&short(&r.to_string())));
            format!(
                r#"<tr data-action-id="{id}" data-type="{kind}" data-status="{status}"><td>{created}</td><td>{kind}</td><td><span class="status {status}">{status}</span></td><td><code>{data}</code></td><td class="answer"><code>{answer}</code></td></tr>"#,
                id = escape(&a.id),
                created = html::time(Some(a.created_at)),
                kind = escape(kind),
                data = escape(&short(&a.data.to_string())),
            )
        })
        .collect();
    format!(
        r#"<table class="actions"><thead><tr><th>Created</th><th>Type</th><th>Status</th><th>Request</th><th>Answer</th></tr></thead><tbody>{rows}</tbody></table>"#
    )
}

/// The live message log: filled and kept current by `console.js` from
/// `GET /v1.1/chargestations/{id}/messages` and its `/stream`.
const MESSAGE_LOG: &str = r#"<section id="messages"><h2>Message log <span id="log-state" class="log-state">connecting…</span></h2>
<div class="scroll"><table class="log"><thead><tr><th>Time (UTC)</th><th>Direction</th><th>Type</th><th>Action</th><th>Message id</th><th>Round trip</th><th>Frame</th></tr></thead><tbody id="message-log"></tbody></table></div></section>"#;

/// Runs a console form: session, origin check, then `handle`; a refusal re-renders the
/// charger's page with the error and the API's status code.
async fn form<F, Fut>(state: &ApiState, req: &HttpRequest, id: &str, handle: F) -> HttpResponse
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<String, ApiError>>,
{
    let outcome = async {
        session::require(state, req).await?;
        check_same_origin(req)?;
        match handle().await {
            Ok(done) => Ok(see_other(&format!(
                "/console/chargestations/{}?{done}#actions",
                percent_encode(id)
            ))),
            Err(e) => {
                if let ApiError::Internal(detail) = &e {
                    tracing::error!(error = %detail, "internal error answering a console form");
                }
                let status = actix_web::ResponseError::status_code(&e);
                station_page(state, id, None, Some((status, e.to_string()))).await
            }
        }
    }
    .await;
    respond(outcome)
}

fn form_fields(body: &Bytes) -> Query {
    Query::parse(std::str::from_utf8(body).unwrap_or(""))
}

/// `POST /console/chargestations/{id}/configuration` `key=..&value=..`: queues a
/// ChangeConfiguration exactly as `POST /v1.1/chargestations/{id}/configurations`.
pub async fn change_key(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    req: HttpRequest,
    body: Bytes,
) -> HttpResponse {
    let fields = form_fields(&body);
    form(&state, &req, &id, || async {
        let key = fields.get("key").unwrap_or("").trim();
        if key.is_empty() {
            return Err(ApiError::Unprocessable("'key' is required".into()));
        }
        let value = Value::String(fields.get("value").unwrap_or("").to_owned());
        change_configuration::queue(&state.dispatcher, &id, key, &value, None, false).await?;
        Ok("done=change".to_owned())
    })
    .await
}

/// `POST /console/chargestations/{id}/upload`: queues a GetConfiguration of every key,
/// as `GET /v1.1/chargestations/{id}/configurations`.
pub async fn request_upload(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    form(&state, &req, &id, || async {
        get_configuration::queue(&state.dispatcher, &id, Vec::new(), None).await?;
        Ok("done=upload".to_owned())
    })
    .await
}

/// `POST /console/chargestations/{id}/apply_desired`: one queued change per drifted
/// writable key, as `POST /v1.1/chargestations/{id}/configurations/apply_desired`.
pub async fn apply_desired(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    form(&state, &req, &id, || async {
        let queued = change_configuration::apply_desired(&state.dispatcher, &id).await?;
        Ok(format!("done=apply&n={}", queued.len()))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_fixed_texts_whatever_the_query_says() {
        assert!(notice(&Query::parse("done=change")).is_some());
        assert_eq!(
            notice(&Query::parse("done=apply&n=3")).as_deref(),
            Some("3 change(s) queued to apply the desired profile.")
        );
        assert!(notice(&Query::parse("done=<script>")).is_none());
        assert!(notice(&Query::parse("")).is_none());
    }

    #[test]
    fn long_cells_are_cut_on_a_character_boundary() {
        let long = "é".repeat(CELL_CHARS + 5);
        let cut = short(&long);
        assert_eq!(cut.chars().count(), CELL_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(short("short"), "short");
    }
}
