//! Migrations go up, down and up again on SQLite and PostgreSQL with data in the tables.

use e2e_tests::TestApp;
use migrations::{Migrator, MigratorTrait};
use serde_json::json;
use simulator::Charger;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_go_up_down_and_up_again_with_data_in_the_tables() {
    let mut app = TestApp::spawn().await;
    let station = app.create_station(json!({"endpoint": "CP-MIG"})).await;
    let id = station["_id"].as_str().unwrap().to_owned();
    let charger = Charger::connect(app.charger_config("CP-MIG"))
        .await
        .unwrap();
    charger.boot().await.unwrap();
    let (s, change) = app
        .post(
            &format!("/v1.1/chargestations/{id}/configurations"),
            &json!({"key": "HeartbeatInterval", "value": "901"}),
        )
        .await;
    assert_eq!(s, 200, "{change}");
    let action_id = change["result"]["_id"].as_str().unwrap().to_owned();
    app.wait_for_get(&format!("/v1.1/actions/{action_id}"), "the change", |b| {
        b["result"]["status"] == "completed"
    })
    .await;
    charger.disconnect().await;
    app.stop_keep_database().await;

    let migration_connection = app.migration_connection().await;
    let conn = &migration_connection;
    let applied = Migrator::get_applied_migrations(conn).await.unwrap().len();
    assert!(applied >= 2);
    // The newest migration down and up again keeps the data of the older tables.
    Migrator::down(conn, Some(1)).await.unwrap();
    assert_eq!(
        Migrator::get_applied_migrations(conn).await.unwrap().len(),
        applied - 1
    );
    Migrator::up(conn, None).await.unwrap();
    assert_eq!(
        model::chargestations::get(&app.db, &id)
            .await
            .unwrap()
            .endpoint,
        "CP-MIG"
    );
    assert_eq!(
        model::actions::get(&app.db, &action_id)
            .await
            .unwrap()
            .status,
        model::actions::ActionStatus::Completed
    );
    // Everything down (with rows in every table), then up again from nothing.
    Migrator::down(conn, None).await.unwrap();
    assert!(Migrator::get_applied_migrations(conn)
        .await
        .unwrap()
        .is_empty());
    Migrator::up(conn, None).await.unwrap();
    assert_eq!(
        Migrator::get_applied_migrations(conn).await.unwrap().len(),
        applied
    );

    let again = app.spawn_on_same_database(|_| {}).await;
    let (s, list) = again.get("/v1.1/chargestations").await;
    assert_eq!((s, list["result"].clone()), (200, json!([])));
    again.create_station(json!({"endpoint": "CP-MIG"})).await;
    again.stop().await;
    app.stop().await;
}
