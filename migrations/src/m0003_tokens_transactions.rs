//! Tokens (the idTag list Authorize, StartTransaction and StopTransaction answer
//! from), transactions (their `transaction_id` is the OCPP transactionId, unique per
//! server), meter values, and the latest charger notifications on each chargestation
//! (firmware, diagnostics, log, security events, certificate signing requests).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_tokens_transactions"
    }
}

#[derive(DeriveIden)]
enum Tokens {
    Table,
    Id,
    IdTag,
    IdTagKey,
    Status,
    ExpiryDate,
    ParentIdTag,
    MetaData,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
    TransactionId,
    Id,
    ChargestationId,
    ConnectorId,
    IdTag,
    IdTagStatus,
    MeterStart,
    StartTimestamp,
    ReservationId,
    MeterStop,
    StopTimestamp,
    StopReason,
    StopIdTag,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MeterValues {
    Table,
    Seq,
    ChargestationId,
    ConnectorId,
    TransactionId,
    Timestamp,
    SampledValue,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Chargestations {
    Table,
    Notifications,
}

fn millis(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn bigint(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn opt_bigint(col: impl IntoIden) -> ColumnDef {
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
                    .table(Tokens::Table)
                    .col(text(Tokens::Id).primary_key())
                    .col(text(Tokens::IdTag))
                    .col(text(Tokens::IdTagKey).unique_key())
                    .col(text(Tokens::Status))
                    .col(opt_bigint(Tokens::ExpiryDate))
                    .col(opt_text(Tokens::ParentIdTag))
                    .col(opt_text(Tokens::MetaData))
                    .col(millis(Tokens::CreatedAt))
                    .col(millis(Tokens::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Transactions::Table)
                    .col(seq(Transactions::TransactionId))
                    .col(text(Transactions::Id).unique_key())
                    .col(text(Transactions::ChargestationId))
                    .col(bigint(Transactions::ConnectorId))
                    .col(text(Transactions::IdTag))
                    .col(text(Transactions::IdTagStatus))
                    .col(bigint(Transactions::MeterStart))
                    .col(text(Transactions::StartTimestamp))
                    .col(opt_bigint(Transactions::ReservationId))
                    .col(opt_bigint(Transactions::MeterStop))
                    .col(opt_text(Transactions::StopTimestamp))
                    .col(opt_text(Transactions::StopReason))
                    .col(opt_text(Transactions::StopIdTag))
                    .col(ColumnDef::new(Transactions::Active).boolean().not_null())
                    .col(millis(Transactions::CreatedAt))
                    .col(millis(Transactions::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_transactions_station")
                    .table(Transactions::Table)
                    .col(Transactions::ChargestationId)
                    .col(Transactions::Active)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MeterValues::Table)
                    .col(seq(MeterValues::Seq))
                    .col(text(MeterValues::ChargestationId))
                    .col(bigint(MeterValues::ConnectorId))
                    .col(opt_bigint(MeterValues::TransactionId))
                    .col(text(MeterValues::Timestamp))
                    .col(text(MeterValues::SampledValue))
                    .col(millis(MeterValues::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_meter_values_transaction")
                    .table(MeterValues::Table)
                    .col(MeterValues::TransactionId)
                    .col(MeterValues::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Chargestations::Table)
                    .add_column(ColumnDef::new(Chargestations::Notifications).text().null())
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Chargestations::Table)
                    .drop_column(Chargestations::Notifications)
                    .to_owned(),
            )
            .await?;
        for table in [
            MeterValues::Table.into_iden(),
            Transactions::Table.into_iden(),
            Tokens::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
