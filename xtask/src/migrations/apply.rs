//! Replaying a migration as sqlx runs it, and saying where it failed.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use annotate_snippets::{AnnotationKind, Element, Level, Origin, Renderer, Snippet};
use postgres::error::{DbError, ErrorPosition, SqlState};

use super::Migration;
use crate::analysis::sql_text::SqlText;

/// Lines shown before and after the failing one: none, so that an error never quotes
/// more of a file than the one line at fault (the file may not be the user's to show).
const CONTEXT_LINES: usize = 0;

impl Migration {
    /// Runs the file as sqlx does: `BEGIN`, the whole file as one simple-protocol batch,
    /// `COMMIT`; the file alone when it starts with `-- no-transaction`. A failure
    /// downcasts to [`MigrationError`].
    pub fn apply(&self, client: &mut postgres::Client) -> anyhow::Result<()> {
        let fail = |err: postgres::Error| anyhow::Error::new(MigrationError::new(self, &err));
        if self.no_transaction {
            return client
                .batch_execute(&self.sql)
                .map_err(|err| self.failed_statement(client, &err));
        }
        // BEGIN and COMMIT go in batches of their own so that PostgreSQL's error position
        // stays an offset into the file's text.
        client.batch_execute("BEGIN").map_err(fail)?;
        if let Err(err) = client.batch_execute(&self.sql) {
            // The migration's own error is the one to report; should the rollback fail too,
            // the connection is gone and the next use says so.
            let _ = client.batch_execute("ROLLBACK");
            return Err(self.failed_statement(client, &err));
        }
        client.batch_execute("COMMIT").map_err(fail)
    }

    /// The failure of the file's batch; when PostgreSQL placed it nowhere (errors raised
    /// while executing, such as a missing relation or a duplicate key), pointed at the
    /// statement that raised it, found by [`Migration::find_failing_statement`].
    fn failed_statement(
        &self,
        client: &mut postgres::Client,
        err: &postgres::Error,
    ) -> anyhow::Error {
        let mut failure = MigrationError::new(self, err);
        if failure.position.is_none() {
            if let Some(code) = err.as_db_error().map(DbError::code) {
                if let Some(offset) = self.find_failing_statement(client, code) {
                    failure.point_at(&self.sql, offset);
                }
            }
        }
        anyhow::Error::new(failure)
    }

    /// Runs the file's statements one at a time inside a transaction that is rolled back,
    /// and returns the character offset (1-based, as PostgreSQL counts) of the first one
    /// that fails with `code`. A file of one statement needs no run.
    ///
    /// Safe for both kinds of file: the batch that failed ran as one transaction (sqlx's
    /// own, or the implicit one PostgreSQL gives a multi-statement query), so it left
    /// nothing behind, and under `BEGIN` a statement that cannot run in a transaction is
    /// refused rather than run. A file that ends or starts transactions itself is not run.
    fn find_failing_statement(
        &self,
        client: &mut postgres::Client,
        code: &SqlState,
    ) -> Option<usize> {
        let chars: Vec<(usize, char)> = self.sql.char_indices().collect();
        let spans = SqlText::parse(&self.sql).statement_spans(chars.len());
        let byte = |at: usize| chars.get(at).map_or(self.sql.len(), |(byte, _)| *byte);
        let text = |span: &Range<usize>| &self.sql[byte(span.start)..byte(span.end)];
        if let [only] = spans.as_slice() {
            return Some(only.start + 1);
        }
        let controls_transactions = spans.iter().any(|span| {
            let first = text(span)
                .split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            TRANSACTION_CONTROL.contains(&first.as_str())
        });
        if controls_transactions || client.batch_execute("BEGIN").is_err() {
            return None;
        }
        let mut found = None;
        for span in &spans {
            if let Err(err) = client.batch_execute(text(span)) {
                let db = err.as_db_error();
                if db.is_some_and(|db| db.code() == code) {
                    let within = match db.and_then(DbError::position) {
                        Some(ErrorPosition::Original(position)) => *position as usize - 1,
                        _ => 0,
                    };
                    found = Some(span.start + within + 1);
                }
                break;
            }
        }
        let _ = client.batch_execute("ROLLBACK");
        found
    }
}

/// Statements that begin or end transactions: a file holding one is not re-run.
const TRANSACTION_CONTROL: &[&str] = &[
    "begin",
    "start",
    "commit",
    "end",
    "rollback",
    "abort",
    "savepoint",
    "release",
    "prepare",
];

/// A 1-based line and character column in a migration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPosition {
    pub line: usize,
    pub column: usize,
}

/// A migration that failed, with what PostgreSQL said and where in the file.
#[derive(Debug, Clone)]
pub struct MigrationError {
    pub path: PathBuf,
    /// Where PostgreSQL pointed, when it did.
    pub position: Option<TextPosition>,
    /// SQLSTATE; `None` when the failure was not PostgreSQL's (a lost connection, say).
    pub code: Option<String>,
    pub message: String,
    pub detail: Option<String>,
    /// PostgreSQL's own hint.
    pub hint: Option<String>,
    /// PostgreSQL's context, e.g. the PL/pgSQL function and line that raised the error.
    pub context: Option<String>,
    /// What to do, for failures whose usual remedy this tool knows.
    pub help: Option<String>,
    excerpt: Option<Excerpt>,
}

/// The lines around the failing one, and the bytes of it to underline.
#[derive(Debug, Clone)]
struct Excerpt {
    source: String,
    first_line: usize,
    span: Range<usize>,
}

impl MigrationError {
    fn new(migration: &Migration, err: &postgres::Error) -> MigrationError {
        MigrationError::in_file(
            &migration.path,
            &migration.sql,
            migration.no_transaction,
            err,
        )
    }

    /// A failure of `sql`, the text of the file at `path` sent as one batch: the error
    /// position is an offset into it. Also used for files run like migrations, such as a
    /// prelude.
    pub fn in_file(
        path: &std::path::Path,
        sql: &str,
        no_transaction: bool,
        err: &postgres::Error,
    ) -> MigrationError {
        let path = path.to_path_buf();
        let Some(db) = err.as_db_error() else {
            return MigrationError {
                path,
                position: None,
                code: None,
                message: err.to_string(),
                detail: None,
                hint: None,
                context: None,
                help: None,
                excerpt: None,
            };
        };
        let mut context = db.where_().map(str::to_owned);
        let offset = match db.position() {
            Some(ErrorPosition::Original(position)) => Some(*position as usize),
            // A statement inside a function body: find its text in the file to place it.
            Some(ErrorPosition::Internal { position, query }) => match sql.find(query.as_str()) {
                Some(start) => Some(sql[..start].chars().count() + *position as usize),
                None => {
                    let query = format!("in the statement `{query}`");
                    context = Some(match context {
                        Some(context) => format!("{context}\n{query}"),
                        None => query,
                    });
                    None
                }
            },
            None => None,
        };
        let located = offset.map(|offset| locate(sql, offset));
        MigrationError {
            path,
            position: located.map(|at| at.position),
            code: Some(db.code().code().to_owned()),
            message: db.message().to_owned(),
            detail: db.detail().map(str::to_owned),
            hint: db.hint().map(str::to_owned),
            context,
            help: advice(db, no_transaction),
            excerpt: located.map(|at| excerpt(sql, at)),
        }
    }

    /// Places a failure PostgreSQL did not place at `offset` (1-based, in characters).
    fn point_at(&mut self, sql: &str, offset: usize) {
        let at = locate(sql, offset);
        self.position = Some(at.position);
        self.excerpt = Some(excerpt(sql, at));
    }

    /// The report with the failing line underlined; pass `Renderer::styled()` for colour.
    pub fn render(&self, renderer: &Renderer) -> String {
        let path = self.path.display().to_string();
        let mut title = Level::ERROR.primary_title(self.message.as_str());
        if let Some(code) = &self.code {
            title = title.id(code.as_str());
        }
        let source: Element = match &self.excerpt {
            Some(excerpt) => Snippet::source(excerpt.source.as_str())
                .line_start(excerpt.first_line)
                .path(path.as_str())
                // The excerpt is already cut to the lines worth showing.
                .fold(false)
                .annotation(AnnotationKind::Primary.span(excerpt.span.clone()))
                .into(),
            None => Origin::path(path.as_str()).into(),
        };
        let mut group = title.element(source);
        let notes = [("detail", &self.detail), ("context", &self.context)];
        for (label, text) in notes {
            if let Some(text) = text {
                group = group.element(Level::NOTE.message(format!("{label}: {text}")));
            }
        }
        for text in [&self.hint, &self.help].into_iter().flatten() {
            group = group.element(Level::HELP.message(text.as_str()));
        }
        renderer.render(&[group])
    }
}

impl fmt::Display for MigrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&Renderer::plain()))
    }
}

impl std::error::Error for MigrationError {}

/// Remedies for failures that mean the migrations expect something they do not make.
fn advice(db: &DbError, no_transaction: bool) -> Option<String> {
    let code = db.code();
    let missing = if *code == SqlState::UNDEFINED_OBJECT && db.message().starts_with("role ") {
        Some("roles")
    } else if *code == SqlState::INVALID_SCHEMA_NAME {
        Some("schemas")
    } else {
        None
    };
    if *code == SqlState::QUERY_CANCELED && db.message().contains("statement timeout") {
        return Some(
            "the statement ran longer than the statement timeout: if it is slow rather than \
             stuck, raise the limit with `--statement-timeout SECONDS` (or \
             `statement-timeout = SECONDS` in `xtask.toml`; 0 for none)"
                .to_owned(),
        );
    }
    if let Some(missing) = missing {
        return Some(format!(
            "the migrations assume {missing} they do not create: create them in a prelude SQL \
             file and pass it with `--prelude FILE` (or set `prelude = \"FILE\"` in `xtask.toml` \
             at the repository root); it runs before the migrations"
        ));
    }
    if *code != SqlState::ACTIVE_SQL_TRANSACTION {
        return None;
    }
    Some(if no_transaction {
        "sqlx sends the whole file as one query, which PostgreSQL runs as one implicit \
         transaction: put this statement alone in a `-- no-transaction` file of its own"
            .to_owned()
    } else {
        "start a file of its own with `-- no-transaction` (its very first bytes) and put this \
         statement alone in it"
            .to_owned()
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Located {
    position: TextPosition,
    /// Byte offset of the character within its line.
    line_byte: usize,
}

/// Maps PostgreSQL's error position (a 1-based character offset into the text sent) to a
/// line and column. "At end of input" lands just after the last non-blank character, where
/// the reader looks for what is missing, rather than on the blank line after it.
fn locate(text: &str, position: usize) -> Located {
    let target = position
        .saturating_sub(1)
        .min(text.trim_end().chars().count());
    let (mut line, mut column, mut line_start) = (1, 1, 0);
    for (index, (byte, ch)) in text.char_indices().enumerate() {
        if index == target {
            return Located {
                position: TextPosition { line, column },
                line_byte: byte - line_start,
            };
        }
        if ch == '\n' {
            (line, column, line_start) = (line + 1, 1, byte + 1);
        } else {
            column += 1;
        }
    }
    Located {
        position: TextPosition { line, column },
        line_byte: text.len() - line_start,
    }
}

fn excerpt(text: &str, at: Located) -> Excerpt {
    let lines: Vec<&str> = text
        .strip_suffix('\n')
        .unwrap_or(text)
        .split('\n')
        .collect();
    let target = at.position.line - 1;
    let first = target.saturating_sub(CONTEXT_LINES);
    let last = (target + CONTEXT_LINES).min(lines.len() - 1);
    let mut source = String::new();
    let mut span = 0..0;
    for (index, line) in lines.iter().enumerate().take(last + 1).skip(first) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if index == target {
            let start = at.line_byte.min(line.len());
            span = source.len() + start..source.len() + start + token_len(&line[start..]);
        }
        source.push_str(line);
        source.push('\n');
    }
    Excerpt {
        source,
        first_line: first + 1,
        span,
    }
}

/// Bytes to underline: the word starting here, else the one character.
fn token_len(rest: &str) -> usize {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    match rest.chars().next() {
        None => 0,
        Some(c) if is_word(c) => rest.find(|c| !is_word(c)).unwrap_or(rest.len()),
        Some(c) => c.len_utf8(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg::testing::scratch_client;
    use std::path::Path;

    use crate::migrations::{ChainRole, MigrationChain};

    #[test]
    fn position_counts_characters_not_bytes() {
        // 'é' and '€' are 2 and 3 bytes; PostgreSQL counts each as one character.
        let text = "-- café\nSELECT '€€' FROM nowhere;\n";
        let position = text.find("nowhere").unwrap();
        let chars = text[..position].chars().count() + 1;
        let at = locate(text, chars);
        assert_eq!(
            at.position,
            TextPosition {
                line: 2,
                column: 18
            }
        );
        assert_eq!(at.line_byte, "SELECT '€€' FROM ".len());
    }

    #[test]
    fn position_past_the_end_lands_after_the_last_character() {
        let at = locate("SELECT (\n\n", 11);
        assert_eq!(at.position, TextPosition { line: 1, column: 9 });
        assert_eq!(at.line_byte, 8);
    }

    #[test]
    fn excerpt_underlines_the_word_on_its_line_alone() {
        let text = "a\r\nb\r\nc\r\nSELECT  nope;\r\nd\r\ne\r\nf\r\n";
        let shown = excerpt(text, locate(text, text.find("nope").unwrap() + 1));
        assert_eq!(shown.first_line, 4);
        assert_eq!(shown.source, "SELECT  nope;\n");
        assert_eq!(&shown.source[shown.span.clone()], "nope");
    }

    #[test]
    fn excerpt_has_no_blank_line_after_the_last_newline() {
        let text = "a\nb\nSELECT nope;\n";
        let shown = excerpt(text, locate(text, text.find("nope").unwrap() + 1));
        assert_eq!(shown.source, "SELECT nope;\n");
    }

    /// `files` written to a temporary directory and read as a consolidated set.
    fn chain(files: &[(&str, &str)]) -> (tempfile::TempDir, MigrationChain) {
        let dir = tempfile::tempdir().unwrap();
        for (name, sql) in files {
            std::fs::write(dir.path().join(name), sql).unwrap();
        }
        let chain = MigrationChain::resolve(dir.path(), ChainRole::Consolidated).unwrap();
        (dir, chain)
    }

    fn apply_err(chain: &MigrationChain, client: &mut postgres::Client) -> MigrationError {
        chain
            .apply(client)
            .unwrap_err()
            .downcast::<MigrationError>()
            .unwrap()
    }

    fn tables(client: &mut postgres::Client) -> Vec<String> {
        client
            .query(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect()
    }

    fn path_in(dir: &Path, name: &str) -> String {
        dir.join(name).display().to_string()
    }

    #[test]
    fn a_good_chain_applies() {
        let (_dir, chain) = chain(&[
            ("1_packs.sql", "CREATE TABLE pack (ref text PRIMARY KEY);\n"),
            (
                "2_actions.sql",
                "CREATE TABLE action (pack text REFERENCES pack);\nINSERT INTO pack VALUES ('core');\n",
            ),
        ]);
        let (mut client, _server) = scratch_client("migrations");
        chain.apply(&mut client).unwrap();
        assert_eq!(tables(&mut client), ["action", "pack"]);
    }

    #[test]
    fn a_failing_statement_is_located_by_file_line_and_column() {
        let bad = "-- runtimes for the café pack\nCREATE TABLE runtime (name text);\n\
                   INSERT INTO runtime VALUES ('€');\nSELECT name FROM runtime WHERE nam = 'x';\n\
                   SELECT 1;\n";
        let (dir, chain) = chain(&[("1_ok.sql", "SELECT 1;"), ("2_runtimes.sql", bad)]);
        let (mut client, _server) = scratch_client("migrations");

        let err = apply_err(&chain, &mut client);

        assert_eq!(
            err.position,
            Some(TextPosition {
                line: 4,
                column: 32
            })
        );
        assert_eq!(err.code.as_deref(), Some("42703"));
        assert_eq!(err.message, "column \"nam\" does not exist");
        let text = err.to_string();
        let location = format!("{}:4:32", path_in(dir.path(), "2_runtimes.sql"));
        assert!(text.contains(&location), "{text}");
        assert!(
            text.contains("4 | SELECT name FROM runtime WHERE nam = 'x';"),
            "{text}"
        );
        assert!(text.contains("^^^"), "{text}");
        // The one line at fault, never the lines around it.
        assert!(!text.contains("INSERT INTO runtime"), "{text}");
        assert!(text.contains("help: Perhaps you meant"), "{text}");
    }

    #[test]
    fn a_missing_role_points_at_the_prelude() {
        let (dir, chain) = chain(&[(
            "1_grants.sql",
            "CREATE TABLE pack ();\nGRANT SELECT ON pack TO xtask_no_such_role;\n",
        )]);
        let (mut client, _server) = scratch_client("migrations");

        let err = apply_err(&chain, &mut client);

        assert_eq!(err.code.as_deref(), Some("42704"));
        assert!(err.help.as_deref().unwrap().contains("--prelude FILE"));
        let text = err.to_string();
        assert!(
            text.contains(&path_in(dir.path(), "1_grants.sql")),
            "{text}"
        );
        assert!(text.contains("xtask.toml"), "{text}");
    }

    #[test]
    fn a_missing_schema_points_at_the_prelude() {
        let (_dir, chain) = chain(&[("1_users.sql", "CREATE TABLE auth.users ();\n")]);
        let (mut client, _server) = scratch_client("migrations");
        let err = apply_err(&chain, &mut client);
        assert_eq!(err.code.as_deref(), Some("3F000"));
        assert!(err.help.as_deref().unwrap().contains("--prelude FILE"));
    }

    #[test]
    fn each_migration_is_its_own_transaction() {
        let (_dir, chain) = chain(&[
            ("1_packs.sql", "CREATE TABLE pack ();\n"),
            (
                "2_actions.sql",
                "CREATE TABLE action ();\nCREATE TABLE sensor ();\nSELECT 1/0;\n",
            ),
        ]);
        let (mut client, _server) = scratch_client("migrations");

        let err = apply_err(&chain, &mut client);

        assert_eq!(err.code.as_deref(), Some("22012"));
        assert_eq!(tables(&mut client), ["pack"]);
    }

    #[test]
    fn a_no_transaction_file_runs_outside_a_transaction() {
        let (_dir, chain) = chain(&[
            ("1_packs.sql", "CREATE TABLE pack (ref text);\n"),
            (
                "2_index.sql",
                "-- no-transaction\nCREATE INDEX CONCURRENTLY pack_ref ON pack (ref);\n",
            ),
        ]);
        let (mut client, _server) = scratch_client("migrations");
        chain.apply(&mut client).unwrap();
        let indexes = client
            .query("SELECT 1 FROM pg_indexes WHERE indexname = 'pack_ref'", &[])
            .unwrap();
        assert_eq!(indexes.len(), 1);
    }

    #[test]
    fn concurrently_in_a_transactional_file_says_what_to_do() {
        let (_dir, chain) = chain(&[(
            "1_index.sql",
            "CREATE TABLE pack (ref text);\nCREATE INDEX CONCURRENTLY pack_ref ON pack (ref);\n",
        )]);
        let (mut client, _server) = scratch_client("migrations");
        let err = apply_err(&chain, &mut client);
        assert_eq!(err.code.as_deref(), Some("25001"));
        assert!(err.help.as_deref().unwrap().contains("`-- no-transaction`"));
    }

    #[test]
    fn an_error_inside_a_function_body_names_the_file_and_context() {
        let body = "CREATE FUNCTION boom() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  \
                    INSERT INTO missing_table VALUES (1);\nEND $$;\nSELECT boom();\n";
        let (dir, chain) = chain(&[("1_boom.sql", body)]);
        let (mut client, _server) = scratch_client("migrations");

        let err = apply_err(&chain, &mut client);

        assert_eq!(err.code.as_deref(), Some("42P01"));
        assert_eq!(
            err.position,
            Some(TextPosition {
                line: 3,
                column: 15
            })
        );
        let text = err.to_string();
        assert!(text.contains(&path_in(dir.path(), "1_boom.sql")), "{text}");
        assert!(
            text.contains("PL/pgSQL function boom() line 3 at SQL statement"),
            "{text}"
        );
    }

    #[test]
    fn an_unterminated_file_points_at_its_end() {
        let (_dir, chain) = chain(&[("1_packs.sql", "CREATE TABLE pack (\n  ref text,\n")]);
        let (mut client, _server) = scratch_client("migrations");
        let err = apply_err(&chain, &mut client);
        assert_eq!(err.message, "syntax error at end of input");
        let text = err.to_string();
        assert_eq!(
            err.position,
            Some(TextPosition {
                line: 2,
                column: 12
            })
        );
        assert!(text.contains("2 |   ref text,"), "{text}");
    }

    #[test]
    fn errors_raised_while_executing_are_placed_at_their_statement() {
        let cases = [
            (
                "CREATE TABLE pack (ref text PRIMARY KEY);\n\nALTER TABLE missing ADD COLUMN x int;\n",
                "42P01",
                3,
            ),
            (
                "CREATE TABLE pack (ref text PRIMARY KEY);\nINSERT INTO pack VALUES ('core');\n\
                 -- again\nINSERT INTO pack VALUES ('core');\nSELECT 1;\n",
                "23505",
                4,
            ),
            (
                "CREATE TABLE pack ();\nSELECT 1;\nGRANT SELECT ON pack TO xtask_no_such_role;\n",
                "42704",
                3,
            ),
            (
                "CREATE TABLE pack ();\nSELECT ';';\nDROP INDEX idx_missing;\nSELECT 2;\n",
                "42704",
                3,
            ),
            (
                "-- no-transaction\nCREATE TABLE pack ();\nCREATE TABLE action ();\n\
                 DROP INDEX idx_missing;\n",
                "42704",
                4,
            ),
        ];
        for (sql, code, line) in cases {
            let (dir, chain) = chain(&[("1_runtime.sql", sql)]);
            let (mut client, _server) = scratch_client("migrations");
            let err = apply_err(&chain, &mut client);
            assert_eq!(err.code.as_deref(), Some(code), "{sql}");
            assert_eq!(
                err.position.map(|p| (p.line, p.column)),
                Some((line, 1)),
                "{sql}"
            );
            let text = err.to_string();
            let location = format!("{}:{line}:1", path_in(dir.path(), "1_runtime.sql"));
            assert!(text.contains(&location), "{text}");
            // The search ran in a transaction that was rolled back.
            assert_eq!(tables(&mut client), Vec::<String>::new(), "{sql}");
        }
    }

    #[test]
    fn a_file_that_ends_transactions_itself_is_not_run_again() {
        let sql = "CREATE TABLE pack ();\nCOMMIT;\nBEGIN;\nDROP INDEX idx_missing;\n";
        let (_dir, chain) = chain(&[("1_commits.sql", sql)]);
        let (mut client, _server) = scratch_client("migrations");
        let err = apply_err(&chain, &mut client);
        assert_eq!(err.code.as_deref(), Some("42704"));
        assert_eq!(err.position, None);
    }

    #[test]
    fn a_failure_without_a_position_still_names_the_file() {
        let sql = "CREATE TABLE pack (ref text PRIMARY KEY);\n\
                   CREATE TABLE action (pack text REFERENCES pack DEFERRABLE INITIALLY DEFERRED);\n\
                   INSERT INTO action VALUES ('missing');\n";
        let (dir, chain) = chain(&[("1_deferred.sql", sql)]);
        let (mut client, _server) = scratch_client("migrations");

        let err = apply_err(&chain, &mut client);

        assert_eq!(err.code.as_deref(), Some("23503"));
        assert_eq!(err.position, None);
        let text = err.to_string();
        assert!(
            text.contains(&path_in(dir.path(), "1_deferred.sql")),
            "{text}"
        );
        assert!(
            text.contains("note: detail: Key (pack)=(missing)"),
            "{text}"
        );
        assert_eq!(tables(&mut client), Vec::<String>::new());
    }
}
