mod migrations;
mod pg;
mod schema;

fn main() {}
