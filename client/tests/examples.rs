//! The programs in `client/examples/` run and print what they promise, on every engine
//! (quickstart.rs, whose tables `fox apply` creates, in operator/tests/quickstart.rs).

use fox_e2e::{Backend, TestDatabase};

#[path = "../examples/event_sourcing.rs"]
#[allow(dead_code)]
mod event_sourcing;

#[tokio::test]
async fn event_sourcing_runs_on_every_engine() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let lines = event_sourcing::run(database.url())
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            lines,
            [
                "withdrawal of 1000 refused: the balance is 300",
                "a stale append is refused: account-ada is at version 3",
                "Ada has 300 at version 3 (snapshot saved)",
                "newest: Withdrew { cents: 200 } by teller in atm-17",
                "the projection applied 4 events",
                "read model: Ada 300",
                "read model: Bob 0",
                "global order: 1:account.opened 2:account.opened 3:account.deposited 4:account.withdrew",
            ],
            "{engine}"
        );
    }
}
