//! Webhook outbox indexes: `events (chargestation_id, seq)`, so that recording an event
//! finds the chargestation's previous event (its `createdAt` never goes backwards) with
//! one index probe instead of scanning the ever-growing `events` table backwards, and
//! listing a chargestation's events needs no scan either. (The worker's claim reads the
//! heads of the pending queue from `idx_deliveries_pending`, created by m0001.)

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_outbox_indexes"
    }
}

#[derive(DeriveIden)]
enum Events {
    Table,
    ChargestationId,
    Seq,
}

const EVENTS_STATION: &str = "idx_events_station";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(EVENTS_STATION)
                    .table(Events::Table)
                    .col(Events::ChargestationId)
                    .col(Events::Seq)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(EVENTS_STATION)
                    .table(Events::Table)
                    .to_owned(),
            )
            .await
    }
}
