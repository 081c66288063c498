fn main() {
    let line = r#"status post atlas p3 --rag amber --summary "Update 7" --blockers "none""#;
    let t = std::time::Instant::now();
    for _ in 0..2000 {
        let _ = drumbeat::command::parse(line).unwrap();
    }
    println!("parse: {:?} per line", t.elapsed() / 2000);
}
