//! The generated set under sqlx's own migrator, the client the application runs it with.

use super::{generate, Generation};
use crate::migrations::{ChainRole, MigrationChain};
use crate::pg::testing::scratch_url;
use crate::pg::ServerOptions;
use crate::ui::Progress;

#[test]
fn every_generated_file_applies_and_is_recorded_by_sqlx_s_migrator() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    std::fs::create_dir(&history).unwrap();
    for (name, sql) in [
        (
            "20240101000001_start.sql",
            "CREATE TYPE level AS ENUM ('low', 'high');
             CREATE TABLE team (id BIGSERIAL PRIMARY KEY, name text NOT NULL UNIQUE);
             INSERT INTO team (name) VALUES ('core'), ('ops');",
        ),
        (
            "20240101000002_more.sql",
            "CREATE TABLE person (id BIGSERIAL PRIMARY KEY, team bigint REFERENCES team(id),
                                  level level NOT NULL DEFAULT 'low');
             CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN NEW.level := 'high'; RETURN NEW; END $$;
             CREATE TRIGGER person_touch BEFORE INSERT ON person
                 FOR EACH ROW EXECUTE FUNCTION touch();",
        ),
    ] {
        std::fs::write(history.join(name), sql).unwrap();
    }
    let chain = MigrationChain::resolve(&history, ChainRole::History).unwrap();
    let Generation::Set(set) = generate(
        &ServerOptions::default(),
        &chain,
        None,
        &Progress::new(true),
    )
    .unwrap() else {
        panic!("the history was refused");
    };
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for (name, text) in &set.files {
        std::fs::write(out.join(name), text).unwrap();
    }
    assert_eq!(set.files.len(), 2);

    let (url, _server) = scratch_url("sqlx_migrator");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let migrator = sqlx::migrate::Migrator::new(out.as_path()).await.unwrap();
        migrator.run(&pool).await.unwrap();
        let recorded: Vec<(i64, bool)> =
            sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(recorded, [(1, true), (2, true)]);
        let teams: Vec<(String,)> = sqlx::query_as("SELECT name FROM team ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(teams, [("core".to_owned(),), ("ops".to_owned(),)]);
        // The sequence was set past the seeded rows: a new row does not collide.
        sqlx::query("INSERT INTO team (name) VALUES ('new')")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
}
