//! A database for the model's tests: a temporary SQLite file, or PostgreSQL in a fresh
//! schema when `CSMS_TEST_DATABASE_URL` is set; with a manual clock.

use std::sync::Arc;

use crate::time::ManualClock;
use crate::{Db, DbOptions};

/// The clock's start, Unix milliseconds.
pub(crate) const T0: i64 = 1_700_000_000_000;

pub(crate) struct TestDb {
    pub(crate) db: Db,
    pub(crate) clock: Arc<ManualClock>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(TempDir),
    Schema(String, String),
}

/// A fresh directory under the system's temporary directory, removed when dropped.
pub(crate) struct TempDir(pub(crate) std::path::PathBuf);

impl TempDir {
    pub(crate) fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("{prefix}-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestDb {
    pub(crate) async fn new() -> TestDb {
        let clock = ManualClock::new(T0);
        let tag = format!("{:016x}", rand::random::<u64>());
        let (options, cleanup) = match std::env::var("CSMS_TEST_DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => {
                let schema = format!("m_{tag}");
                let mut options = DbOptions::new(url.clone());
                options.schema = Some(schema.clone());
                (options, Cleanup::Schema(url, schema))
            }
            _ => {
                let dir = TempDir::new("csms-model");
                let url = format!("sqlite://{}?mode=rwc", dir.0.join("csms.db").display());
                (DbOptions::new(url), Cleanup::Dir(dir))
            }
        };
        let db = Db::connect_with_clock(&options, clock.clone())
            .await
            .unwrap();
        TestDb { db, clock, cleanup }
    }

    /// A new open station with this identity.
    pub(crate) async fn station(&self, endpoint: &str) -> crate::chargestations::Chargestation {
        crate::chargestations::create(
            &self.db,
            crate::chargestations::NewChargestation {
                endpoint: endpoint.to_owned(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .0
    }

    pub(crate) async fn done(self) {
        self.db.close().await.unwrap();
        match self.cleanup {
            Cleanup::Dir(dir) => drop(dir),
            Cleanup::Schema(url, schema) => {
                let _ = crate::drop_schema(&url, &schema).await;
            }
        }
    }
}
