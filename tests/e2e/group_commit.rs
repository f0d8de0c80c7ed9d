//! Group commit of connections and boots (`model::group_commit`): writes arriving
//! together are committed in one transaction, every caller is answered only after its
//! write is committed, writes of one station keep their order, a bad write fails alone,
//! and a database failure answers every caller with an error instead of leaving it
//! waiting. Also through real sockets: a fleet reconnecting and booting at once is all
//! online and booted in the database once every BootNotification is answered.

use std::time::Duration;

use e2e_tests::TestApp;
use model::chargestations::{self, NewChargestation};
use model::group_commit::GroupCommit;
use model::{DbOptions, ModelError};
use serde_json::json;
use simulator::Charger;

async fn stations(app: &TestApp, prefix: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let (station, _) = chargestations::create(
            &app.db,
            NewChargestation {
                endpoint: format!("{prefix}{i:04}"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        ids.push(station.id);
    }
    ids
}

#[tokio::test]
async fn concurrent_connects_and_boots_are_committed_in_few_transactions_and_all_persisted() {
    let app = TestApp::spawn().await;
    let n = 200;
    let ids = stations(&app, "GC-", n).await;
    let writer = GroupCommit::spawn(app.db.clone(), 512);

    let connects = ids
        .iter()
        .map(|id| writer.mark_connected(id, "ws://x/ocpp", "here"));
    let generations = futures_util::future::join_all(connects).await;
    let after_connects = writer.batches();
    let boots = ids.iter().enumerate().map(|(i, id)| {
        writer.record_boot(
            id,
            json!({"chargePointVendor": "V", "firmwareVersion": format!("fw-{i}")}),
        )
    });
    let counts = futures_util::future::join_all(boots).await;

    // Every caller was answered, and what it was told is in the database.
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(generations[i].as_ref().unwrap(), &1, "station {i}");
        assert_eq!(counts[i].as_ref().unwrap(), &1, "station {i}");
        let stored = chargestations::get(&app.db, id).await.unwrap();
        assert!(stored.online);
        assert_eq!(stored.connection_generation, 1);
        assert_eq!(stored.boot_count, 1);
        assert_eq!(
            stored.boot_info.unwrap()["firmwareVersion"],
            format!("fw-{i}")
        );
        let events = model::events::for_chargestation(&app.db, id).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["type"], "chargestation.online");
    }
    // Going offline is grouped too, and a stale generation changes nothing.
    let before_disconnects = writer.batches();
    let stale = ids
        .iter()
        .map(|id| writer.mark_disconnected(id, 0, "ws://x/ocpp"));
    assert!(futures_util::future::join_all(stale)
        .await
        .into_iter()
        .all(|applied| !applied.unwrap()));
    let gone = ids
        .iter()
        .map(|id| writer.mark_disconnected(id, 1, "ws://x/ocpp"));
    assert!(futures_util::future::join_all(gone)
        .await
        .into_iter()
        .all(|applied| applied.unwrap()));
    for id in &ids {
        assert!(!chargestations::get(&app.db, id).await.unwrap().online);
        let events = model::events::for_chargestation(&app.db, id).await.unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1]["type"], "chargestation.offline");
    }
    assert!(writer.batches() - before_disconnects <= (2 * n / 10) as u64);
    // Grouped: far fewer transactions than writes (one each without group commit).
    assert!(
        after_connects <= (n / 10) as u64,
        "{after_connects} transactions for {n} connections"
    );
    assert!(
        writer.batches() - after_connects <= (n / 10) as u64,
        "{} transactions for {n} boots",
        writer.batches() - after_connects
    );
    app.stop().await;
}

#[tokio::test]
async fn concurrent_handshake_lookups_are_answered_together_each_with_its_station() {
    let app = TestApp::spawn().await;
    let ids = stations(&app, "GL-", 30).await;
    let writer = GroupCommit::spawn(app.db.clone(), 512);
    let mut endpoints: Vec<String> = (0..30).map(|i| format!("GL-{i:04}")).collect();
    endpoints.push("GL-0003".into());
    endpoints.push("GL-MISSING".into());
    let found =
        futures_util::future::join_all(endpoints.iter().map(|e| writer.find_by_endpoint(e))).await;
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(&found[i].as_ref().unwrap().as_ref().unwrap().id, id);
    }
    assert_eq!(&found[30].as_ref().unwrap().as_ref().unwrap().id, &ids[3]);
    assert!(found[31].as_ref().unwrap().is_none());
    app.stop().await;
}

#[tokio::test]
async fn writes_of_one_station_in_one_group_apply_in_arrival_order() {
    let app = TestApp::spawn().await;
    let ids = stations(&app, "GO-", 1).await;
    let id = &ids[0];
    let writer = GroupCommit::spawn(app.db.clone(), 512);
    let (first, second, third, boot) = tokio::join!(
        writer.mark_connected(id, "ws://x/ocpp", "here"),
        writer.mark_connected(id, "ws://x/ocpp", "here"),
        writer.mark_connected(id, "ws://x/ocpp", "here"),
        writer.record_boot(id, json!({"chargePointVendor": "V"})),
    );
    assert_eq!(
        (first.unwrap(), second.unwrap(), third.unwrap()),
        (1, 2, 3),
        "each connection bumps the generation once, in order"
    );
    assert_eq!(boot.unwrap(), 1);
    let stored = chargestations::get(&app.db, id).await.unwrap();
    assert_eq!(stored.connection_generation, 3);
    let events = model::events::for_chargestation(&app.db, id).await.unwrap();
    assert_eq!(events.len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn a_write_that_fails_in_a_group_fails_alone_and_the_others_are_committed() {
    let app = TestApp::spawn().await;
    let ids = stations(&app, "GF-", 20).await;
    let writer = GroupCommit::spawn(app.db.clone(), 512);
    let missing = "0123456789abcdef01234567".to_owned();
    let mut targets: Vec<&String> = ids.iter().collect();
    targets.insert(10, &missing);
    let connects = targets
        .iter()
        .map(|id| writer.mark_connected(id, "ws://x/ocpp", "here"));
    let answers = futures_util::future::join_all(connects).await;
    for (target, answer) in targets.iter().zip(&answers) {
        if **target == missing {
            assert!(matches!(answer, Err(ModelError::NotFound(_))), "{answer:?}");
        } else {
            assert_eq!(answer.as_ref().unwrap(), &1);
            assert!(chargestations::get(&app.db, target).await.unwrap().online);
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn when_the_database_fails_every_caller_gets_an_error_instead_of_waiting() {
    let app = TestApp::spawn().await;
    let ids = stations(&app, "GD-", 20).await;
    let mut options = DbOptions::new(app.settings.database_url.clone());
    options.schema =
        (!app.settings.database_schema.is_empty()).then(|| app.settings.database_schema.clone());
    let broken = model::Db::connect(&options).await.unwrap();
    let writer = GroupCommit::spawn(broken.clone(), 512);
    broken.close().await.unwrap();
    let connects = ids
        .iter()
        .map(|id| writer.mark_connected(id, "ws://x/ocpp", "here"));
    let boots = ids
        .iter()
        .map(|id| writer.record_boot(id, json!({"chargePointVendor": "V"})));
    let (connects, boots) = tokio::time::timeout(
        Duration::from_secs(30),
        futures_util::future::join(
            futures_util::future::join_all(connects),
            futures_util::future::join_all(boots),
        ),
    )
    .await
    .expect("every caller is answered");
    assert!(connects.iter().all(Result::is_err), "{connects:?}");
    assert!(boots.iter().all(Result::is_err), "{boots:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_reconnecting_at_once_is_online_and_booted_once_every_boot_is_answered() {
    let app = TestApp::spawn_with(|s| s.auto_register = true).await;
    let n = 60;
    let connect = |i: usize| {
        let config = app.charger_config(&format!("GS-{i:03}"));
        async move {
            let charger = Charger::connect(config).await.unwrap();
            charger.boot().await.unwrap();
            charger
        }
    };
    let first = futures_util::future::join_all((0..n).map(connect)).await;
    drop(first);
    let second = futures_util::future::join_all((0..n).map(connect)).await;
    // Answered = committed: no polling needed.
    for i in 0..n {
        let stored = chargestations::get(&app.db, &format!("GS-{i:03}"))
            .await
            .unwrap();
        assert_eq!(stored.boot_count, 2, "GS-{i:03}");
        assert!(stored.connection_generation >= 2, "GS-{i:03}");
    }
    drop(second);
    app.stop().await;
}
