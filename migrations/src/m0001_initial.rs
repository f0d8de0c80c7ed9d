//! The initial schema: chargestations, API keys, actions (the command queue), the event
//! outbox, webhook endpoints and their deliveries.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_initial"
    }
}

#[derive(DeriveIden)]
enum Chargestations {
    Table,
    Id,
    Endpoint,
    Protocol,
    Active,
    Online,
    BootInfo,
    BootCount,
    Connectors,
    Configuration,
    SecurityType,
    PasswordHash,
    LenientHandshake,
    MetaData,
    ConnectionGeneration,
    LastConnectAt,
    LastDisconnectAt,
    LastMessageAt,
    QueueHeld,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Name,
    KeyHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Actions {
    Table,
    Seq,
    Id,
    Type,
    Status,
    ChargestationId,
    Data,
    WireData,
    ResponseData,
    MetaData,
    QueueState,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Seq,
    Id,
    Type,
    Object,
    ChargestationId,
    Envelope,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Events,
    Secret,
    Description,
    Active,
    FailingSince,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Seq,
    Id,
    EndpointId,
    EventSeq,
    OrderKey,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastStatusCode,
    LastError,
    CreatedAt,
    UpdatedAt,
}

fn millis(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn opt_millis(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().null().to_owned()
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn opt_text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
}

fn seq(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Chargestations::Table)
                    .col(text(Chargestations::Id).primary_key())
                    .col(text(Chargestations::Endpoint).unique_key())
                    .col(text(Chargestations::Protocol))
                    .col(ColumnDef::new(Chargestations::Active).boolean().not_null())
                    .col(ColumnDef::new(Chargestations::Online).boolean().not_null())
                    .col(opt_text(Chargestations::BootInfo))
                    .col(
                        ColumnDef::new(Chargestations::BootCount)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(text(Chargestations::Connectors))
                    .col(opt_text(Chargestations::Configuration))
                    .col(text(Chargestations::SecurityType))
                    .col(opt_text(Chargestations::PasswordHash))
                    .col(
                        ColumnDef::new(Chargestations::LenientHandshake)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(opt_text(Chargestations::MetaData))
                    .col(
                        ColumnDef::new(Chargestations::ConnectionGeneration)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(opt_millis(Chargestations::LastConnectAt))
                    .col(opt_millis(Chargestations::LastDisconnectAt))
                    .col(opt_millis(Chargestations::LastMessageAt))
                    .col(
                        ColumnDef::new(Chargestations::QueueHeld)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(millis(Chargestations::CreatedAt))
                    .col(millis(Chargestations::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(text(ApiKeys::Id).primary_key())
                    .col(text(ApiKeys::Name))
                    .col(text(ApiKeys::KeyHash).unique_key())
                    .col(millis(ApiKeys::CreatedAt))
                    .col(opt_millis(ApiKeys::LastUsedAt))
                    .col(opt_millis(ApiKeys::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Actions::Table)
                    .col(seq(Actions::Seq))
                    .col(text(Actions::Id).unique_key())
                    .col(text(Actions::Type))
                    .col(text(Actions::Status))
                    .col(text(Actions::ChargestationId))
                    .col(text(Actions::Data))
                    .col(opt_text(Actions::WireData))
                    .col(opt_text(Actions::ResponseData))
                    .col(opt_text(Actions::MetaData))
                    .col(text(Actions::QueueState))
                    .col(millis(Actions::CreatedAt))
                    .col(millis(Actions::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_actions_queue")
                    .table(Actions::Table)
                    .col(Actions::ChargestationId)
                    .col(Actions::QueueState)
                    .col(Actions::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(seq(Events::Seq))
                    .col(text(Events::Id).unique_key())
                    .col(text(Events::Type))
                    .col(text(Events::Object))
                    .col(opt_text(Events::ChargestationId))
                    .col(text(Events::Envelope))
                    .col(millis(Events::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(text(WebhookEndpoints::Id).primary_key())
                    .col(text(WebhookEndpoints::Url))
                    .col(text(WebhookEndpoints::Events))
                    .col(text(WebhookEndpoints::Secret))
                    .col(opt_text(WebhookEndpoints::Description))
                    .col(
                        ColumnDef::new(WebhookEndpoints::Active)
                            .boolean()
                            .not_null(),
                    )
                    .col(opt_millis(WebhookEndpoints::FailingSince))
                    .col(millis(WebhookEndpoints::CreatedAt))
                    .col(millis(WebhookEndpoints::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(seq(WebhookDeliveries::Seq))
                    .col(text(WebhookDeliveries::Id).unique_key())
                    .col(text(WebhookDeliveries::EndpointId))
                    .col(
                        ColumnDef::new(WebhookDeliveries::EventSeq)
                            .big_integer()
                            .not_null(),
                    )
                    .col(text(WebhookDeliveries::OrderKey))
                    .col(text(WebhookDeliveries::Status))
                    .col(
                        ColumnDef::new(WebhookDeliveries::Attempts)
                            .integer()
                            .not_null(),
                    )
                    .col(millis(WebhookDeliveries::NextAttemptAt))
                    .col(opt_millis(WebhookDeliveries::LeaseUntil))
                    .col(
                        ColumnDef::new(WebhookDeliveries::LastStatusCode)
                            .integer()
                            .null(),
                    )
                    .col(opt_text(WebhookDeliveries::LastError))
                    .col(millis(WebhookDeliveries::CreatedAt))
                    .col(millis(WebhookDeliveries::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_deliveries_pending")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Status)
                    .col(WebhookDeliveries::EndpointId)
                    .col(WebhookDeliveries::OrderKey)
                    .col(WebhookDeliveries::Seq)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookDeliveries::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
            Events::Table.into_iden(),
            Actions::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            Chargestations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
