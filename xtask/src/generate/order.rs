//! The order of the units: dependencies read from `pg_depend` (a foreign key's on its
//! target among them), then a topological sort of each file's units. A foreign key whose
//! target comes later, in its file or a later one, is added once the target exists.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;

use super::units::{Unit, Units};
use crate::schema::model::{ObjectId, ObjectKind, Schema};

/// Every dependency between two objects of the model, by the model's names: the
/// dependent's kind and name, then the referenced object's. Sub-objects stand for what
/// holds them: a column default and a table's row type for the table, an index for its
/// table, a view's rewrite rule for the view, an array type for its element type. Names
/// follow the model's rule (each part quoted as `quote_ident` does, schema-qualified
/// outside `public`).
const DEPENDENCIES: &str = "
WITH named AS (
    SELECT 'pg_class'::regclass AS classid, c.oid AS objid,
           CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'f' THEN 'table'
                          WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                          WHEN 'S' THEN 'sequence' WHEN 'c' THEN 'type' END AS kind,
           CASE WHEN n.nspname = 'public' THEN quote_ident(c.relname) ELSE quote_ident(n.nspname) || '.' || quote_ident(c.relname) END AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'c')
  UNION ALL
    SELECT 'pg_class'::regclass, i.oid, t.kind, t.name
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
    JOIN LATERAL (SELECT CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'table' END,
                         CASE WHEN n.nspname = 'public' THEN quote_ident(c.relname) ELSE quote_ident(n.nspname) || '.' || quote_ident(c.relname) END
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE c.oid = x.indrelid) t(kind, name) ON true
  UNION ALL
    SELECT 'pg_type'::regclass, t.oid,
           CASE b.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain'
                WHEN 'c' THEN CASE r.relkind WHEN 'c' THEN 'type' WHEN 'v' THEN 'view'
                                             WHEN 'm' THEN 'materialized view' ELSE 'table' END
           END,
           CASE WHEN n.nspname = 'public' THEN quote_ident(coalesce(r.relname, b.typname))
                ELSE quote_ident(n.nspname) || '.' || quote_ident(coalesce(r.relname, b.typname)) END
    FROM pg_type t
    JOIN pg_type b ON b.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0
                                   THEN t.typelem ELSE t.oid END
    JOIN pg_namespace n ON n.oid = b.typnamespace
    LEFT JOIN pg_class r ON r.oid = b.typrelid
    WHERE b.typtype IN ('e', 'd', 'c')
  UNION ALL
    SELECT 'pg_proc'::regclass, p.oid, 'function',
           CASE WHEN n.nspname = 'public' THEN quote_ident(p.proname) ELSE quote_ident(n.nspname) || '.' || quote_ident(p.proname) END
           || '(' || oidvectortypes(p.proargtypes) || ')'
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  UNION ALL
    SELECT 'pg_trigger'::regclass, tg.oid, 'trigger',
           CASE WHEN n.nspname = 'public' THEN quote_ident(c.relname) ELSE quote_ident(n.nspname) || '.' || quote_ident(c.relname) END || '.' || quote_ident(tg.tgname)
    FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
  UNION ALL
    SELECT 'pg_policy'::regclass, p.oid, 'policy',
           CASE WHEN n.nspname = 'public' THEN quote_ident(c.relname) ELSE quote_ident(n.nspname) || '.' || quote_ident(c.relname) END || '.' || quote_ident(p.polname)
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
  UNION ALL
    SELECT 'pg_constraint'::regclass, k.oid, 'constraint',
           CASE WHEN k.conrelid <> 0 THEN
                CASE WHEN n.nspname = 'public' THEN quote_ident(c.relname) ELSE quote_ident(n.nspname) || '.' || quote_ident(c.relname) END
                ELSE CASE WHEN tn.nspname = 'public' THEN quote_ident(t.typname) ELSE quote_ident(tn.nspname) || '.' || quote_ident(t.typname) END
           END || '.' || quote_ident(k.conname)
    FROM pg_constraint k
    LEFT JOIN pg_class c ON c.oid = k.conrelid
    LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_type t ON t.oid = k.contypid
    LEFT JOIN pg_namespace tn ON tn.oid = t.typnamespace
  UNION ALL
    SELECT 'pg_attrdef'::regclass, d.oid, 'table',
           CASE WHEN n.nspname = 'public' THEN quote_ident(c.relname) ELSE quote_ident(n.nspname) || '.' || quote_ident(c.relname) END
    FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
  UNION ALL
    SELECT 'pg_rewrite'::regclass, r.oid,
           CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END,
           CASE WHEN n.nspname = 'public' THEN quote_ident(c.relname) ELSE quote_ident(n.nspname) || '.' || quote_ident(c.relname) END
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm')
)
SELECT DISTINCT d.kind, d.name, r.kind, r.name
FROM pg_depend p
JOIN named d ON d.classid = p.classid AND d.objid = p.objid
JOIN named r ON r.classid = p.refclassid AND r.objid = p.refobjid
WHERE p.deptype IN ('n', 'a') AND (d.kind, d.name) IS DISTINCT FROM (r.kind, r.name)";

fn kind(label: &str) -> Option<ObjectKind> {
    ObjectKind::ALL.into_iter().find(|k| k.label() == label)
}

/// A dependency between two units: the first must come after the second.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: Unit,
    pub to: Unit,
    /// Preferred but breakable: a table after the tables its foreign keys point at (the
    /// foreign key is added later otherwise), a trigger after its table's rows.
    pub soft: bool,
}

/// Reads the dependencies of the connected database between the units to write.
pub fn dependencies(
    client: &mut postgres::Client,
    schema: &Schema,
    units: &Units,
) -> anyhow::Result<Vec<Edge>> {
    let rows = client
        .query(DEPENDENCIES, &[])
        .context("reading the dependencies between objects (pg_depend)")?;
    let unit_of = |kind_label: &str, name: String| -> Option<&Unit> {
        units.of.get(&ObjectId {
            kind: kind(kind_label)?,
            name,
        })
    };
    let mut edges = BTreeSet::new();
    for row in &rows {
        let (from_kind, from_name): (Option<String>, String) = (row.get(0), row.get(1));
        let (to_kind, to_name): (Option<String>, String) = (row.get(2), row.get(3));
        let (Some(from_kind), Some(to_kind)) = (from_kind, to_kind) else {
            continue;
        };
        let (Some(from), Some(to)) = (unit_of(&from_kind, from_name), unit_of(&to_kind, to_name))
        else {
            continue;
        };
        if from != to {
            edges.insert(Edge {
                from: from.clone(),
                to: to.clone(),
                soft: false,
            });
        }
    }
    edges.extend(preferences(schema, units));
    Ok(edges.into_iter().collect())
}

/// The soft edges: a table after its foreign keys' targets, rows after the rows they
/// reference, triggers after their table's rows; and the hard edges of rows on their
/// table and of a SQL function on the tables its body names (its body is checked when it
/// is created, but `pg_depend` does not record what it reads).
fn preferences(schema: &Schema, units: &Units) -> Vec<Edge> {
    let mut edges = Vec::new();
    let rows: BTreeSet<&str> = units
        .all
        .iter()
        .filter_map(|u| match u {
            Unit::Rows(t) => Some(t.as_str()),
            Unit::Object(_) => None,
        })
        .collect();
    let table_unit = |name: &str| {
        Unit::Object(ObjectId {
            kind: ObjectKind::Table,
            name: name.to_owned(),
        })
    };
    for table in &rows {
        edges.push(Edge {
            from: Unit::Rows((*table).to_owned()),
            to: table_unit(table),
            soft: false,
        });
    }
    for unit in &units.all {
        let Unit::Object(id) = unit else { continue };
        let Some(object) = schema.objects.get(id) else {
            continue;
        };
        match id.kind {
            ObjectKind::Constraint => {
                let (Some(table), Some(target)) = (object.table.as_deref(), references(object))
                else {
                    continue;
                };
                if table != target {
                    edges.push(Edge {
                        from: table_unit(table),
                        to: table_unit(&target),
                        soft: true,
                    });
                    if rows.contains(table) && rows.contains(target.as_str()) {
                        edges.push(Edge {
                            from: Unit::Rows(table.to_owned()),
                            to: Unit::Rows(target.clone()),
                            soft: true,
                        });
                    }
                }
            }
            ObjectKind::Trigger => {
                if let Some(table) = object.table.as_deref().filter(|t| rows.contains(t)) {
                    edges.push(Edge {
                        from: unit.clone(),
                        to: Unit::Rows(table.to_owned()),
                        soft: true,
                    });
                }
            }
            ObjectKind::Function => {
                let definition = object.properties.get("definition");
                let Some(body) = definition.filter(|d| d.contains(" LANGUAGE sql")) else {
                    continue;
                };
                let words: BTreeSet<&str> = body
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                    .collect();
                for relation in schema.objects.keys().filter(|r| {
                    matches!(
                        r.kind,
                        ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView
                    ) && words.contains(r.name.as_str())
                }) {
                    if let Some(target) = units.of.get(relation) {
                        edges.push(Edge {
                            from: unit.clone(),
                            to: target.clone(),
                            soft: false,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    edges
}

/// The table a foreign key points at, read from its definition (`... REFERENCES t(id)`),
/// as the model names it: PostgreSQL prints the table quoted, and qualified unless it is
/// in `public`.
pub fn references(constraint: &crate::schema::model::SchemaObject) -> Option<String> {
    if constraint.properties.get("type").map(String::as_str) != Some("foreign key") {
        return None;
    }
    let definition = constraint.properties.get("definition")?;
    let rest = &definition[definition.find(" REFERENCES ")? + " REFERENCES ".len()..];
    let mut in_quotes = false;
    let end = rest.char_indices().find(|&(_, c)| {
        if c == '"' {
            in_quotes = !in_quotes;
        }
        c == '(' && !in_quotes
    })?;
    let table = &rest[..end.0];
    Some(table.strip_prefix("public.").unwrap_or(table).to_owned())
}

/// Foreign keys are the only constraints that are units of their own.
pub fn is_foreign_key(unit: &Unit) -> bool {
    matches!(unit, Unit::Object(id) if id.kind == ObjectKind::Constraint)
}

/// A hard dependency that the files' order contradicts.
#[derive(Debug)]
pub struct Misplaced {
    pub from: Unit,
    pub from_file: usize,
    pub to: Unit,
    pub to_file: usize,
}

/// Moves what a unit needs into the unit's file when the plan placed it later (without a
/// plan, the history's first creation decides the file, and a table created early can
/// need a type created later). Returns what it moved.
pub fn pull_forward(files: &mut BTreeMap<Unit, usize>, edges: &[Edge]) -> Vec<Misplaced> {
    let mut moved = Vec::new();
    loop {
        let misplaced = find_misplaced(files, edges);
        let Some(first) = misplaced.into_iter().next() else {
            return moved;
        };
        files.insert(first.to.clone(), first.from_file);
        moved.push(first);
    }
}

/// Hard dependencies on a unit placed in a later file. A foreign key is never misplaced:
/// it is written where both its tables exist.
pub fn find_misplaced(files: &BTreeMap<Unit, usize>, edges: &[Edge]) -> Vec<Misplaced> {
    edges
        .iter()
        .filter(|e| !e.soft && !is_foreign_key(&e.from))
        .filter_map(|e| {
            let (from_file, to_file) = (*files.get(&e.from)?, *files.get(&e.to)?);
            (to_file > from_file).then(|| Misplaced {
                from: e.from.clone(),
                from_file,
                to: e.to.clone(),
                to_file,
            })
        })
        .collect()
}

/// The units of one file in an order that satisfies every hard dependency within it, and
/// the soft ones where they can be; ties broken by rank, then `origin` (where the history
/// created the unit), then name, so the order is the same on every run.
pub fn sort_file(
    units: &[Unit],
    edges: &[Edge],
    origin: &BTreeMap<Unit, usize>,
) -> Result<Vec<Unit>, Vec<Unit>> {
    let inside: BTreeSet<&Unit> = units.iter().collect();
    let mut needs: BTreeMap<&Unit, Vec<(&Unit, bool)>> = BTreeMap::new();
    for edge in edges {
        if inside.contains(&edge.from) && inside.contains(&edge.to) {
            needs
                .entry(&edge.from)
                .or_default()
                .push((&edge.to, edge.soft));
        }
    }
    let key = |u: &Unit| {
        (
            u.rank(),
            origin.get(u).copied().unwrap_or(usize::MAX),
            u.clone(),
        )
    };
    let mut remaining: BTreeSet<(u8, usize, Unit)> = units.iter().map(key).collect();
    let mut done: BTreeSet<Unit> = BTreeSet::new();
    let mut order = Vec::new();
    while !remaining.is_empty() {
        let ready = |u: &Unit, with_soft: bool| {
            needs.get(u).is_none_or(|deps| {
                deps.iter()
                    .all(|(d, soft)| done.contains(*d) || (*soft && !with_soft))
            })
        };
        let next = remaining
            .iter()
            .find(|(_, _, u)| ready(u, true))
            .or_else(|| remaining.iter().find(|(_, _, u)| ready(u, false)))
            .cloned();
        let Some(next) = next else {
            return Err(remaining.into_iter().map(|(_, _, u)| u).collect());
        };
        remaining.remove(&next);
        done.insert(next.2.clone());
        order.push(next.2);
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> Unit {
        Unit::Object(ObjectId {
            kind: ObjectKind::Table,
            name: name.to_owned(),
        })
    }

    #[test]
    fn hard_dependencies_order_and_soft_ones_give_way_in_a_cycle() {
        let (a, b, c) = (table("a"), table("b"), table("c"));
        let edges = vec![
            Edge {
                from: a.clone(),
                to: b.clone(),
                soft: true,
            },
            Edge {
                from: b.clone(),
                to: a.clone(),
                soft: true,
            },
            Edge {
                from: c.clone(),
                to: b.clone(),
                soft: false,
            },
        ];
        let order =
            sort_file(&[c.clone(), b.clone(), a.clone()], &edges, &BTreeMap::new()).unwrap();
        assert_eq!(order, [a, b.clone(), c.clone()]);
        let cycle = vec![
            Edge {
                from: b.clone(),
                to: c.clone(),
                soft: false,
            },
            Edge {
                from: c.clone(),
                to: b.clone(),
                soft: false,
            },
        ];
        assert_eq!(
            sort_file(&[b.clone(), c.clone()], &cycle, &BTreeMap::new()).unwrap_err(),
            [b, c]
        );
    }

    #[test]
    fn foreign_key_targets_are_read_from_the_definition() {
        let mut fk = crate::schema::model::SchemaObject::new(
            ObjectKind::Constraint,
            "a.a_b_fkey",
            Some("a".into()),
        );
        fk.set("type", Some("foreign key"));
        fk.set(
            "definition",
            Some("FOREIGN KEY (b) REFERENCES \"Odd\".\"b.c\"(id)"),
        );
        assert_eq!(references(&fk).as_deref(), Some("\"Odd\".\"b.c\""));
        fk.set(
            "definition",
            Some("FOREIGN KEY (b) REFERENCES b(id) ON DELETE CASCADE"),
        );
        assert_eq!(references(&fk).as_deref(), Some("b"));
    }
}
