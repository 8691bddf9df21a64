//! content tests (filled in below).

#[test]
fn whole_numbers_in_content_render_as_integers() {
    // Clients of the reference print `1`, not `1.0`.
    let rules = serde_json::to_value(&crate::support::default_def().rules).unwrap();
    assert_eq!(rules["defaultActionAPCost"].to_string(), "1");
    assert_eq!(
        rules["tierDefinitions"][0]["range"]["min"].to_string(),
        "-10"
    );
    let castle = &rules["winConditions"][0]["trigger"]["value"];
    assert_eq!(castle.to_string(), "0");
}
