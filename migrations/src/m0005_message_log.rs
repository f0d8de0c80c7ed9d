//! The OCPP message log: one row per WebSocket text frame in or out (masked), kept per
//! chargestation up to a count and an age (see docs/message-log.md).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0005_message_log"
    }
}

#[derive(DeriveIden)]
enum MessageLog {
    Table,
    Seq,
    Id,
    ChargestationId,
    Identity,
    Direction,
    FrameType,
    Action,
    MessageId,
    Payload,
    Timestamp,
    RoundTripMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MessageLog::Table)
                    .col(
                        ColumnDef::new(MessageLog::Seq)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(MessageLog::Id).text().not_null())
                    .col(
                        ColumnDef::new(MessageLog::ChargestationId)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MessageLog::Identity).text().not_null())
                    .col(ColumnDef::new(MessageLog::Direction).text().not_null())
                    .col(ColumnDef::new(MessageLog::FrameType).text().null())
                    .col(ColumnDef::new(MessageLog::Action).text().null())
                    .col(ColumnDef::new(MessageLog::MessageId).text().null())
                    .col(ColumnDef::new(MessageLog::Payload).text().not_null())
                    .col(
                        ColumnDef::new(MessageLog::Timestamp)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MessageLog::RoundTripMs).big_integer().null())
                    .to_owned(),
            )
            .await?;
        // One station, newest first (the list, and the per-station count pruning).
        manager
            .create_index(
                Index::create()
                    .name("idx_message_log_station_time")
                    .table(MessageLog::Table)
                    .col(MessageLog::ChargestationId)
                    .col(MessageLog::Timestamp)
                    .col(MessageLog::Seq)
                    .to_owned(),
            )
            .await?;
        // Pruning by age across every station.
        manager
            .create_index(
                Index::create()
                    .name("idx_message_log_time")
                    .table(MessageLog::Table)
                    .col(MessageLog::Timestamp)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MessageLog::Table).to_owned())
            .await?;
        Ok(())
    }
}
