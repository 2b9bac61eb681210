//! Finding, in a migration's SQL text, the statement that did what the catalog shows: the
//! catalog says what changed, the text says at which line.
//!
//! The text is cut into tokens (comments, string literals and dollar-quoted bodies left
//! out, so that a function body's `UPDATE trigger` or a commented-out `DROP` never
//! matches), then into statements at top-level semicolons. Patterns are short lists of
//! words matched case-insensitively.

use std::ops::Range;

/// One word (keyword or identifier, unquoted ones lowercased) or one punctuation character.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    /// A `"quoted"` identifier: never a keyword.
    quoted: bool,
    line: usize,
    /// Parenthesis depth within the statement.
    depth: u32,
    /// Index of its first character in the text.
    at: usize,
}

/// Where a statement was found: its line, and what kind of statement holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// 1-based line of the match.
    pub line: usize,
    /// The match is inside an `ALTER ...` statement (as opposed to a `CREATE TABLE`).
    pub in_alter: bool,
}

/// One element of a pattern: a keyword, a group of keywords that may be absent, one of
/// several keywords, or the object's name (possibly schema-qualified in the text).
#[derive(Debug, Clone, Copy)]
pub enum Pattern<'a> {
    Word(&'a str),
    Optional(&'a [&'a str]),
    AnyOf(&'a [&'a str]),
    Name(&'a str),
}

use Pattern::{AnyOf, Name, Optional, Word};

/// A migration's SQL, cut into tokens and statements.
#[derive(Debug, Clone, Default)]
pub struct SqlText {
    tokens: Vec<Token>,
    statements: Vec<Range<usize>>,
}

impl SqlText {
    pub fn parse(sql: &str) -> SqlText {
        let tokens = tokenize(sql);
        let mut statements = Vec::new();
        let mut start = 0;
        for (i, token) in tokens.iter().enumerate() {
            if token.text == ";" && !token.quoted && token.depth == 0 {
                if i > start {
                    statements.push(start..i);
                }
                start = i + 1;
            }
        }
        if start < tokens.len() {
            statements.push(start..tokens.len());
        }
        SqlText { tokens, statements }
    }

    /// Where each statement is in the text, as character ranges from its first token to
    /// the semicolon that ends it (excluded) or the end of the text.
    pub fn statement_spans(&self, text_chars: usize) -> Vec<Range<usize>> {
        self.statements
            .iter()
            .map(|range| {
                let end = self.tokens.get(range.end).map_or(text_chars, |end| end.at);
                self.tokens[range.start].at..end
            })
            .collect()
    }

    /// The first statement that begins with `head`.
    pub fn statement(&self, head: &[Pattern]) -> Option<Location> {
        self.statements
            .iter()
            .find_map(|range| self.match_at(range.start, range.end, head).map(|_| range))
            .map(|range| self.location(range.start, range))
    }

    /// Lines of every statement that begins with `head`.
    pub fn statements(&self, head: &[Pattern]) -> Vec<usize> {
        self.statements
            .iter()
            .filter(|range| self.match_at(range.start, range.end, head).is_some())
            .map(|range| self.tokens[range.start].line)
            .collect()
    }

    /// The first place, inside a statement that begins with `head`, where `inner` matches
    /// (at parenthesis depth `depth`, when given).
    pub fn within(
        &self,
        head: &[Pattern],
        inner: &[Pattern],
        depth: Option<u32>,
    ) -> Option<Location> {
        self.statements.iter().find_map(|range| {
            let after_head = self.match_at(range.start, range.end, head)?;
            (after_head..range.end)
                .find(|&i| {
                    depth.is_none_or(|d| self.tokens[i].depth == d)
                        && self.match_at(i, range.end, inner).is_some()
                })
                .map(|i| self.location(i, range))
        })
    }

    /// A function's name followed by its argument list, inside a statement beginning with
    /// `head`; prefers the overload whose number of arguments is `arguments`.
    pub fn function(&self, head: &[Pattern], name: &str, arguments: usize) -> Option<Location> {
        let mut fallback = None;
        for range in &self.statements {
            let Some(after_head) = self.match_at(range.start, range.end, head) else {
                continue;
            };
            for i in after_head..range.end {
                if self.tokens[i].depth != 0 {
                    continue;
                }
                let Some(after_name) = self.match_at(i, range.end, &[Name(name)]) else {
                    continue;
                };
                let location = self.location(range.start, range);
                if self.argument_count(after_name, range.end) == Some(arguments) {
                    return Some(location);
                }
                fallback.get_or_insert(location);
            }
        }
        fallback
    }

    /// A column of `table`: the clause that adds it to the table, else its definition
    /// inside the table's `CREATE TABLE`.
    pub fn column(&self, table: &str, column: &str) -> Option<Location> {
        let add = [
            Word("add"),
            Optional(&["column"]),
            Optional(&["if", "not", "exists"]),
            Name(column),
        ];
        self.within(&alter_table(table), &add, Some(0)).or_else(|| {
            // A column definition starts a table element: right after `(` or `,`.
            self.statements.iter().find_map(|range| {
                let after_head = self.match_at(range.start, range.end, &create_table(table))?;
                (after_head + 1..range.end)
                    .find(|&i| {
                        let token = &self.tokens[i];
                        let previous = &self.tokens[i - 1];
                        token.depth == 1
                            && (token.text == column)
                            && matches!(previous.text.as_str(), "(" | ",")
                            && !previous.quoted
                    })
                    .map(|i| self.location(i, range))
            })
        })
    }

    /// Does `pattern` match at token `at` (before `end`)? Returns the index after the match.
    fn match_at(&self, at: usize, end: usize, pattern: &[Pattern]) -> Option<usize> {
        let mut i = at;
        for element in pattern {
            match *element {
                Word(word) => {
                    i = self.keyword(i, end, word)?;
                }
                AnyOf(words) => {
                    i = words.iter().find_map(|w| self.keyword(i, end, w))?;
                }
                Optional(words) => {
                    let mut j = i;
                    let all = words.iter().all(|w| match self.keyword(j, end, w) {
                        Some(next) => {
                            j = next;
                            true
                        }
                        None => false,
                    });
                    if all {
                        i = j;
                    }
                }
                Name(name) => {
                    i = self.name(i, end, name)?;
                }
            }
        }
        Some(i)
    }

    fn keyword(&self, i: usize, end: usize, word: &str) -> Option<usize> {
        let token = self.tokens.get(i).filter(|_| i < end)?;
        (!token.quoted && token.text == word).then_some(i + 1)
    }

    /// Matches `name` (`x` or `schema.x`) as written: `x`, `public.x`, `"x"`, `schema.x`.
    fn name(&self, i: usize, end: usize, name: &str) -> Option<usize> {
        let wanted: Vec<&str> = name.split('.').collect();
        let mut parts = Vec::new();
        let mut j = i;
        loop {
            let token = self.tokens.get(j).filter(|_| j < end)?;
            if !token.quoted && !is_word(&token.text) {
                return None;
            }
            parts.push(token.text.as_str());
            j += 1;
            match self.tokens.get(j) {
                Some(dot) if j < end && dot.text == "." && !dot.quoted => j += 1,
                _ => break,
            }
        }
        let bare_public = parts.len() == wanted.len() + 1 && parts[0] == "public";
        let matches = parts == wanted || (bare_public && parts[1..] == wanted[..]);
        matches.then_some(j)
    }

    /// Arguments in the parenthesized list starting at `open`, if it is one.
    fn argument_count(&self, open: usize, end: usize) -> Option<usize> {
        let first = self
            .tokens
            .get(open)
            .filter(|t| open < end && t.text == "(")?;
        let inside = first.depth + 1;
        let mut count = 0;
        let mut empty = true;
        for token in &self.tokens[open + 1..end] {
            if token.text == ")" && !token.quoted && token.depth == first.depth {
                return Some(if empty { 0 } else { count + 1 });
            }
            empty = false;
            if token.text == "," && !token.quoted && token.depth == inside {
                count += 1;
            }
        }
        None
    }

    fn location(&self, token: usize, statement: &Range<usize>) -> Location {
        Location {
            line: self.tokens[token].line,
            in_alter: self
                .keyword(statement.start, statement.end, "alter")
                .is_some(),
        }
    }
}

/// `CREATE [UNLOGGED] TABLE [IF NOT EXISTS] table`
pub fn create_table(table: &str) -> [Pattern<'_>; 5] {
    [
        Word("create"),
        Optional(&["unlogged"]),
        Word("table"),
        Optional(&["if", "not", "exists"]),
        Name(table),
    ]
}

/// `ALTER TABLE [IF EXISTS] [ONLY] table`
pub fn alter_table(table: &str) -> [Pattern<'_>; 5] {
    [
        Word("alter"),
        Word("table"),
        Optional(&["if", "exists"]),
        Optional(&["only"]),
        Name(table),
    ]
}

fn is_word(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line, mut depth) = (0, 1, 0u32);
    let count_lines =
        |from: usize, to: usize| chars[from..to].iter().filter(|&&c| c == '\n').count();
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '-' if next == Some('-') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                let end = find(&chars, i + 2, &['*', '/']).map_or(chars.len(), |e| e + 2);
                line += count_lines(i, end);
                i = end;
            }
            '\'' => {
                // '' inside a literal is an escaped quote: scanning on from it is the same.
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '\'')
                    .map_or(chars.len(), |p| i + 1 + p + 1);
                line += count_lines(i, end);
                i = end;
            }
            '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '"')
                    .map_or(chars.len(), |p| i + 1 + p);
                tokens.push(Token {
                    text: chars[i + 1..end].iter().collect(),
                    quoted: true,
                    line,
                    depth,
                    at: i,
                });
                line += count_lines(i, end.min(chars.len()));
                i = end + 1;
            }
            '$' if dollar_tag(&chars, i).is_some() => {
                let tag = dollar_tag(&chars, i).unwrap_or_default();
                let body = i + tag.len();
                let end = find(&chars, body, &tag).map_or(chars.len(), |e| e + tag.len());
                tokens.push(Token {
                    text: "$body$".to_owned(),
                    quoted: true,
                    line,
                    depth,
                    at: i,
                });
                line += count_lines(i, end);
                i = end;
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '$'))
                {
                    i += 1;
                }
                tokens.push(Token {
                    text: chars[start..i].iter().collect::<String>().to_lowercase(),
                    quoted: false,
                    line,
                    depth,
                    at: start,
                });
            }
            _ => {
                if c == ')' {
                    depth = depth.saturating_sub(1);
                }
                tokens.push(Token {
                    text: c.to_string(),
                    quoted: false,
                    line,
                    depth,
                    at: i,
                });
                if c == '(' {
                    depth += 1;
                }
                if c == ';' && depth > 0 {
                    // A stray parenthesis must not swallow the rest of the file.
                    depth = 0;
                    if let Some(last) = tokens.last_mut() {
                        last.depth = 0;
                    }
                }
                i += 1;
            }
        }
    }
    tokens
}

/// `$tag$` starting at `i`, if there is one.
fn dollar_tag(chars: &[char], i: usize) -> Option<Vec<char>> {
    let rest = &chars[i + 1..];
    let len = rest
        .iter()
        .position(|&c| !(c.is_alphanumeric() || c == '_'))?;
    (rest[len] == '$' && !rest[..len].first().is_some_and(char::is_ascii_digit))
        .then(|| chars[i..i + len + 2].to_vec())
}

fn find(chars: &[char], from: usize, needle: &[char]) -> Option<usize> {
    (from..=chars.len().saturating_sub(needle.len())).find(|&i| chars[i..].starts_with(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQL: &str = "\
-- CREATE TABLE commented_out (id INT);
CREATE TABLE IF NOT EXISTS public.runtime (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL,
    /* a block
       comment */ kind TEXT,
    CONSTRAINT runtime_ref_format CHECK (ref ~ ';')
);
CREATE FUNCTION f(a BIGINT) RETURNS void AS $$
BEGIN
    DROP TABLE runtime; -- inside a body
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION f(a BIGINT, b JSONB DEFAULT '{}') RETURNS void AS $body$ SELECT 1 $body$ LANGUAGE sql;
ALTER TABLE runtime
    ADD COLUMN IF NOT EXISTS extra INT,
    ADD COLUMN \"Quoted\" INT;
INSERT INTO runtime (ref) VALUES ('a');
insert into runtime (ref) values ('b;c');
TRUNCATE TABLE runtime CASCADE;
";

    #[test]
    fn finds_a_created_table_past_comments() {
        let text = SqlText::parse(SQL);
        assert_eq!(
            text.statement(&create_table("runtime")),
            Some(Location {
                line: 2,
                in_alter: false
            })
        );
        assert_eq!(text.statement(&create_table("commented_out")), None);
    }

    #[test]
    fn finds_columns_in_the_create_table_and_in_alters() {
        let text = SqlText::parse(SQL);
        let line = |c| text.column("runtime", c).map(|l| (l.line, l.in_alter));
        assert_eq!(line("ref"), Some((4, false)));
        assert_eq!(line("kind"), Some((6, false)));
        assert_eq!(line("extra"), Some((15, true)));
        assert_eq!(line("Quoted"), Some((16, true)));
        assert_eq!(line("missing"), None);
    }

    #[test]
    fn finds_a_named_constraint() {
        let text = SqlText::parse(SQL);
        let found = text.within(
            &create_table("runtime"),
            &[Word("constraint"), Name("runtime_ref_format")],
            Some(1),
        );
        assert_eq!(found.map(|l| l.line), Some(7));
    }

    #[test]
    fn tells_function_overloads_apart_and_skips_bodies() {
        let text = SqlText::parse(SQL);
        let head = [
            Word("create"),
            Optional(&["or", "replace"]),
            Word("function"),
        ];
        assert_eq!(text.function(&head, "f", 1).map(|l| l.line), Some(9));
        assert_eq!(text.function(&head, "f", 2).map(|l| l.line), Some(13));
        let drop = [Word("drop"), Word("table")];
        assert_eq!(text.statement(&drop), None, "a DROP inside a body");
    }

    #[test]
    fn lists_every_insert_and_finds_a_truncate() {
        let text = SqlText::parse(SQL);
        let insert = [Word("insert"), Word("into"), Name("runtime")];
        assert_eq!(text.statements(&insert), vec![17, 18]);
        let truncate = [Word("truncate"), Optional(&["table"]), Name("runtime")];
        assert_eq!(text.statement(&truncate).map(|l| l.line), Some(19));
    }

    #[test]
    fn any_of_matches_one_of_the_words() {
        let text = SqlText::parse("create procedure p() language sql as 'select 1';");
        let head = [Word("create"), AnyOf(&["function", "procedure"])];
        assert_eq!(text.function(&head, "p", 0).map(|l| l.line), Some(1));
    }
}
