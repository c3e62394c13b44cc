//! Column defaults as each engine stores them: floating point and text defaults converge (the
//! plan after an apply is empty), and the stored value is the declared one.

use fox_e2e::{Backend, TestDatabase};

use super::support::{applied, apply, execute, plan, query_texts, tables};

async fn assert_converges(engine: Backend, database: &TestDatabase, yaml: &str) {
    let declared = tables(yaml);
    applied(apply(database, &declared, false).await);
    let again = plan(database, &declared).await;
    assert!(
        again.is_empty(),
        "{engine}: the plan after apply is empty, got {:#?}",
        again.changes
    );
}

const FLOATS: &str = "
    - name: measures
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: r_big, type: real, default: 1e20}
        - {name: r_third, type: real, default: 0.3333333333333333}
        - {name: r_long, type: real, default: 123456789.123}
        - {name: r_tenth, type: real, default: 0.1}
        - {name: r_negative_zero, type: real, default: -0.0}
        - {name: d_big, type: double, default: 1e20}
        - {name: d_huge, type: double, default: 1e100}
        - {name: d_tiny, type: double, default: 1.5e-7}
        - {name: d_negative_zero, type: double, default: -0.0}
        - {name: d_max, type: double, default: 1.7976931348623157e308}
";

#[tokio::test]
async fn float_defaults_converge_and_keep_their_magnitude_on_every_engine() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        assert_converges(engine, &database, FLOATS).await;
        execute(&database, "INSERT INTO measures (id) VALUES (1)").await;
        // MySQL used to read 1e100 written as a 101-digit literal as a DECIMAL and keep 1e65.
        let rows = query_texts(
            &database,
            "SELECT CASE WHEN d_huge > 0.99e100 AND d_huge < 1.01e100 \
               AND d_tiny > 1.49e-7 AND d_tiny < 1.51e-7 \
               AND d_max > 1.79e308 \
               AND r_big > 0.99e20 AND r_big < 1.01e20 \
               AND r_tenth > 0.099 AND r_tenth < 0.101 THEN 'kept' ELSE 'changed' END \
             FROM measures WHERE id = 1",
        )
        .await;
        assert_eq!(
            rows,
            vec![vec![Some("kept".to_string())]],
            "{engine}: stored defaults have the declared magnitude"
        );
    }
}

#[tokio::test]
async fn text_defaults_with_newlines_and_escapes_converge_on_every_engine() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let yaml = "
    - name: notes
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: body, type: varchar(40), default: \"a\\nb\\rc\\td 'e' \\\\f \\\\n %_\"}
        - {name: memo, type: text, default: \"first line\\nsecond line\"}
";
        assert_converges(engine, &database, yaml).await;
        execute(&database, "INSERT INTO notes (id) VALUES (1)").await;
        let rows = query_texts(&database, "SELECT body, memo FROM notes WHERE id = 1").await;
        assert_eq!(
            rows,
            vec![vec![
                Some("a\nb\rc\td 'e' \\f \\n %_".to_string()),
                Some("first line\nsecond line".to_string())
            ]],
            "{engine}: the stored default is the declared text"
        );
    }
}

#[tokio::test]
async fn plan_output_shows_control_characters_in_defaults_escaped() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let before = "
    - name: notes
      columns:
        - {name: id, type: integer, primaryKey: true}
";
    applied(apply(&database, &tables(before), false).await);
    let declared = tables(&format!(
        "{before}        - {{name: body, type: text, default: \"one\\ntwo\\u001b[31m\"}}\n"
    ));
    let planned = plan(&database, &declared).await;
    let shown: Vec<String> = planned
        .changes
        .iter()
        .map(|c| c.change.to_string())
        .collect();
    let line = shown
        .iter()
        .find(|l| l.contains("one"))
        .unwrap_or_else(|| panic!("a change shows the default: {shown:#?}"));
    assert!(
        line.contains(r"'one\ntwo\u{1b}[31m'") && !line.contains('\n') && !line.contains('\u{1b}'),
        "{line}"
    );
}

#[tokio::test]
async fn date_and_time_defaults_converge_on_every_engine() {
    let yaml = "
    - name: calendar
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: day, type: date, default: current_date}
        - {name: clock, type: time, default: current_time}
        - {name: local, type: timestamp, default: now()}
        - {name: instant, type: timestamptz, default: now()}
        - {name: fixed_day, type: date, default: \"2024-02-29\"}
        - {name: fixed_clock, type: time, default: \"09:30\"}
        - {name: fixed_local, type: timestamp, default: \"2024-01-01T10:00:00.5\"}
        - {name: fixed_instant, type: timestamptz, default: \"2024-01-01T10:00:00+02:00\"}
";
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        assert_converges(engine, &database, yaml).await;
    }
}
