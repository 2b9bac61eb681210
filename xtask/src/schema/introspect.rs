//! Reading the catalog into a [`Schema`]: one query per object kind for the whole database.

use super::model::Schema;

pub fn introspect(_client: &mut postgres::Client) -> anyhow::Result<Schema> {
    todo!("schema: introspect")
}
