//! Tenant isolation: ids from tenant A neither read nor change anything in tenant B.

use drumbeat::domain::{Key, Tenant};
use drumbeat::store;

use crate::helpers::*;

#[tokio::test]
async fn another_tenants_programs_and_ids_are_invisible() {
    let db = TestDb::new().await;
    let a = Tenant::discord(111);
    let b = Tenant::discord(222);
    for line in [
        "program create atlas --name A",
        "project add atlas api --owner @dana",
        "project add atlas web --owner @li",
        "milestone add atlas beta --target 2026-12-15 --project api",
        "dep add atlas --needs web --from api --what Secret --by 2026-12-01",
        r#"risk add atlas "A's risk" --likelihood 3 --impact 3"#,
    ] {
        db.run_in(&a, "tpm", line)
            .await
            .unwrap_or_else(|e| panic!("{line}: {e}"));
    }
    let a_before = db.dump().await;

    // B sees no program of A's, by key or in lists.
    let list = drumbeat::reply::text::render(&db.run_in(&b, "tpm", "program list").await.unwrap());
    assert!(!list.contains("atlas"), "{list}");
    for line in [
        "milestone list atlas",
        "dep block atlas 1 --reason x",
        "risk close atlas 1",
        "status post atlas api --rag green --summary x",
    ] {
        let err = db.run_in(&b, "tpm", line).await.unwrap_err();
        assert!(
            err.to_string().contains("there is no program `atlas`"),
            "{line}: {err}"
        );
    }
    assert_eq!(
        a_before,
        db.dump().await,
        "B's failed commands changed something"
    );

    // B's own `atlas` gets its own numbers; A's dependency #1 stays untouched.
    db.run_in(&b, "tpm", "program create atlas --name B")
        .await
        .unwrap();
    db.run_in(&b, "tpm", "project add atlas x").await.unwrap();
    db.run_in(&b, "tpm", "project add atlas y").await.unwrap();
    db.run_in(
        &b,
        "tpm",
        "dep add atlas --needs y --from x --what Mine --by 2026-12-01",
    )
    .await
    .unwrap();
    db.run_in(&b, "tpm", "dep block atlas 1 --reason x")
        .await
        .unwrap();
    let a_deps =
        drumbeat::reply::text::render(&db.run_in(&a, "tpm", "dep list atlas").await.unwrap());
    assert!(
        a_deps.contains("Secret") && !a_deps.contains("blocked") && !a_deps.contains("Mine"),
        "{a_deps}"
    );

    // At the store: a tenant's lookups only ever return its own rows.
    let mut conn = db.store.conn().await.unwrap();
    let key = Key::parse("atlas").unwrap();
    let (scope_a, _) = store::find_program(&mut conn, &a, &key)
        .await
        .unwrap()
        .unwrap();
    let (scope_b, _) = store::find_program(&mut conn, &b, &key)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(scope_a, scope_b);
    let people_b = store::people(&mut conn, &b).await.unwrap();
    assert!(
        people_b.values().all(|p| p.handle != "dana"),
        "A's people leaked into B"
    );
    let a_person = store::person_by_handle(&mut conn, &a, "dana")
        .await
        .unwrap()
        .unwrap();
    assert!(
        store::person(&mut conn, &b, a_person.id).await.is_err(),
        "B read A's person by id"
    );
    let mut renamed = a_person.clone();
    renamed.display_name = "hijacked".into();
    store::update_person(&mut conn, &b, &renamed).await.unwrap();
    let still = store::person_by_handle(&mut conn, &a, "dana")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.display_name, "dana", "B changed A's person by id");
    assert!(store::find_program(&mut conn, &Tenant::local(), &key)
        .await
        .unwrap()
        .is_none());
}
