//! Reading the roles that a side's migrations created into [`SchemaObject`]s of kind
//! [`ObjectKind::Role`], so that the schema comparison covers them like any other object.
//!
//! Roles are global to a server, not part of a database: which ones count is decided by
//! the caller, who knows which roles existed before the migrations ran (those made by
//! `initdb` and the prelude are left out).

use std::collections::BTreeSet;

use anyhow::Context;

use super::introspect::object_from_row;
use super::model::{ObjectKind, SchemaObject};

/// One row per role not in `$1`, with its attributes, memberships and settings as text.
///
/// - The password only as "set or not": its hash is salted differently on every server.
/// - `member_of` lists the roles it belongs to, each with the options of the grant
///   (`inherit_option` and `set_option` exist from PostgreSQL 16 on, read through JSON so
///   that one query serves every version); `members` lists only members that are not
///   compared themselves, since those already say what they are members of.
/// - `settings` are `ALTER ROLE … SET`; those `IN DATABASE` are the database's own
///   (see the introspection of the database), for every role.
const ROLES: &str = "
SELECT quote_ident(r.rolname) AS name,
       r.rolsuper::text AS superuser,
       r.rolinherit::text AS inherit,
       r.rolcreaterole::text AS createrole,
       r.rolcreatedb::text AS createdb,
       r.rolcanlogin::text AS login,
       r.rolreplication::text AS replication,
       r.rolbypassrls::text AS bypassrls,
       r.rolconnlimit::text AS connection_limit,
       CASE WHEN isfinite(r.rolvaliduntil)
            THEN to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'
            ELSE r.rolvaliduntil::text END AS valid_until,
       (r.rolpassword IS NOT NULL)::text AS password,
       (SELECT string_agg(quote_ident(g.rolname)
                          || CASE WHEN m.admin_option THEN ' admin' ELSE '' END
                          || coalesce(CASE WHEN (to_jsonb(m) ->> 'inherit_option')::bool
                                           THEN ' inherit' ELSE ' noinherit' END, '')
                          || coalesce(CASE WHEN (to_jsonb(m) ->> 'set_option')::bool
                                           THEN ' set' ELSE ' noset' END, ''),
                          ', ' ORDER BY g.rolname)
          FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
         WHERE m.member = r.oid) AS member_of,
       (SELECT string_agg(quote_ident(u.rolname), ', ' ORDER BY u.rolname)
          FROM pg_auth_members m JOIN pg_roles u ON u.oid = m.member
         WHERE m.roleid = r.oid AND u.rolname::text = ANY ($1::text[])) AS members,
       (SELECT array_to_string(s.setconfig, ', ')
          FROM pg_db_role_setting s
         WHERE s.setrole = r.oid AND s.setdatabase = 0) AS settings,
       shobj_description(r.oid, 'pg_authid') AS comment
  FROM pg_roles r
 WHERE r.rolname::text <> ALL ($1::text[])
 ORDER BY r.rolname";

/// Every role of the connected server that is not in `existing`.
pub fn read_roles(
    client: &mut postgres::Client,
    existing: &BTreeSet<String>,
) -> anyhow::Result<Vec<SchemaObject>> {
    let existing: Vec<&str> = existing.iter().map(String::as_str).collect();
    let rows = client
        .query(ROLES, &[&existing])
        .context("listing the roles")?;
    rows.iter()
        .map(|row| object_from_row(ObjectKind::Role, row).context("reading a role row"))
        .collect()
}
