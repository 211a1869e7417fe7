//! `cargo test` fails when the checked-in generated code no longer matches `api-spec/`.

#[test]
fn generated_code_is_fresh() {
    if let Err(e) = xtask::regen(&xtask::project_root(), xtask::Mode::Check) {
        panic!("{e}");
    }
}
