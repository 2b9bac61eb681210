//! Spellings for SQL: identifiers the model holds unquoted (role names, an extension's
//! schema) quoted only when they must be, as `quote_ident` does; literals; arrays.

use std::collections::BTreeSet;

use anyhow::Context;

/// What decides whether an identifier needs quotes: the server's keywords that are not
/// unreserved (those `quote_ident` quotes).
#[derive(Debug, Clone, Default)]
pub struct Names {
    keywords: BTreeSet<String>,
}

impl Names {
    /// Reads the keywords of the connected server.
    pub fn read(client: &mut postgres::Client) -> anyhow::Result<Names> {
        let keywords = client
            .query(
                "SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'",
                &[],
            )
            .context("reading the server's keywords")?
            .iter()
            .map(|row| row.get(0))
            .collect();
        Ok(Names { keywords })
    }

    /// `name` as `quote_ident` prints it: bare when it is lower case letters, digits,
    /// underscores and dollars, starts with a letter or underscore, and is no keyword.
    pub fn ident(&self, name: &str) -> String {
        let plain = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
            && !self.keywords.contains(name);
        if plain {
            name.to_owned()
        } else {
            format!("\"{}\"", name.replace('"', "\"\""))
        }
    }
}

/// A string literal, as `quote_literal` writes it under `standard_conforming_strings`.
pub fn literal(text: &str) -> String {
    if text.contains('\\') {
        format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", text.replace('\'', "''"))
    }
}

/// The elements of an array as PostgreSQL prints it in text: `{a,"b c",NULL}`. NULL
/// elements are left out (enum labels and role lists hold none).
pub fn text_array(text: &str) -> Vec<String> {
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let mut items = Vec::new();
    let mut chars = inner.chars().peekable();
    while chars.peek().is_some() {
        let mut item = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => item.extend(chars.next()),
                    '"' => break,
                    c => item.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                item.push(c);
                chars.next();
            }
        }
        chars.next_if_eq(&',');
        if quoted || item != "NULL" {
            items.push(item);
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            keywords: ["user", "select", "table"].map(String::from).into(),
        }
    }

    #[test]
    fn identifiers_are_quoted_only_when_they_must_be() {
        let names = names();
        assert_eq!(names.ident("pack_ref"), "pack_ref");
        assert_eq!(names.ident("user"), "\"user\"");
        assert_eq!(names.ident("Pack"), "\"Pack\"");
        assert_eq!(names.ident("a.b"), "\"a.b\"");
        assert_eq!(names.ident("1st"), "\"1st\"");
        assert_eq!(names.ident("say\"hi"), "\"say\"\"hi\"");
    }

    #[test]
    fn text_arrays_are_read_as_postgresql_prints_them() {
        assert_eq!(
            text_array(r#"{a,"b c","say \"hi\"",NULL,"NULL"}"#),
            ["a", "b c", "say \"hi\"", "NULL"]
        );
        assert!(text_array("{}").is_empty());
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal(r"a\d"), r"E'a\\d'");
    }
}
