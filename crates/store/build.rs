// `sqlx::migrate!` embeds the SQL at compile time; without this, editing a migration
// would not trigger a rebuild.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
