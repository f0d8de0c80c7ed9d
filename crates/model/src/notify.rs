//! Signals between instances sharing one PostgreSQL database, over PostgreSQL's own
//! `LISTEN/NOTIFY` (nothing home-made): "this station has work queued", "a newer
//! connection of this station exists elsewhere". (Webhook workers poll the outbox every
//! 100 ms on every instance, so they need no signal.)
//! On SQLite (one instance per database) publishing is a no-op and there is no listener.

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::{Db, ModelError, ModelResult};

/// A signal for the other instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// The station has queued commands (or its command on the wire finished).
    Wake { station_id: String },
    /// The station connected to another instance with this connection generation.
    Takeover { station_id: String, generation: i64 },
}

impl Signal {
    fn encode(&self) -> String {
        match self {
            Signal::Wake { station_id } => format!("wake:{station_id}"),
            Signal::Takeover {
                station_id,
                generation,
            } => format!("takeover:{station_id}:{generation}"),
        }
    }

    /// Reads an encoded signal.
    pub fn decode(text: &str) -> Option<Signal> {
        if let Some(station_id) = text.strip_prefix("wake:") {
            return Some(Signal::Wake {
                station_id: station_id.to_owned(),
            });
        }
        let rest = text.strip_prefix("takeover:")?;
        let (station_id, generation) = rest.rsplit_once(':')?;
        Some(Signal::Takeover {
            station_id: station_id.to_owned(),
            generation: generation.parse().ok()?,
        })
    }
}

/// The channel: one per schema, so databases shared by several deployments (or tests)
/// do not hear each other.
fn channel(db: &Db) -> String {
    let schema: String = db
        .schema()
        .unwrap_or("public")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    format!("csms_{schema}")
}

/// Tells the other instances (PostgreSQL only; a no-op on SQLite).
///
/// # Errors
/// On database failure.
pub async fn publish(db: &Db, signal: &Signal) -> ModelResult<()> {
    if !db.is_postgres() {
        return Ok(());
    }
    db.conn()
        .execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [channel(db).into(), signal.encode().into()],
        ))
        .await?;
    Ok(())
}

/// A subscription to the other instances' signals.
pub struct Listener {
    inner: PgListener,
}

impl Listener {
    /// The next signal (unreadable payloads are skipped). After a lost connection the
    /// listener reconnects by itself; signals sent meanwhile are lost, which callers
    /// cover with periodic checks.
    ///
    /// # Errors
    /// On database failure.
    pub async fn recv(&mut self) -> ModelResult<Signal> {
        loop {
            let notification = self
                .inner
                .recv()
                .await
                .map_err(|e| ModelError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
            if let Some(signal) = Signal::decode(notification.payload()) {
                return Ok(signal);
            }
        }
    }
}

/// Subscribes to the other instances' signals; `None` on SQLite.
///
/// # Errors
/// On database failure.
pub async fn listen(db: &Db) -> ModelResult<Option<Listener>> {
    let Some(pool) = db.conn().postgres_pool() else {
        return Ok(None);
    };
    let mut inner = PgListener::connect_with(pool)
        .await
        .map_err(|e| ModelError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
    inner
        .listen(&channel(db))
        .await
        .map_err(|e| ModelError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
    Ok(Some(Listener { inner }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_round_trip_through_their_text_form() {
        for signal in [
            Signal::Wake {
                station_id: "645e58b1a448ff6e42285ceb".into(),
            },
            Signal::Takeover {
                station_id: "abc".into(),
                generation: 42,
            },
        ] {
            assert_eq!(Signal::decode(&signal.encode()), Some(signal));
        }
        assert_eq!(Signal::decode("nonsense"), None);
    }
}
