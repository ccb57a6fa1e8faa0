use std::time::Instant;
use whalewatch::cache::Cache;
use whalewatch::model::email::EmailEvent;
fn main() {
    let src = Cache::open_read_only(std::path::Path::new("/tmp/ww/c3/sim.sqlite")).unwrap();
    let t = Instant::now();
    let rows: Vec<EmailEvent> = src.rows(None, &[], None).unwrap();
    println!("read {} rows in {:?}", rows.len(), t.elapsed());
    let _ = std::fs::remove_dir_all("/tmp/ww/c4");
    let mut dst = Cache::open(std::path::Path::new("/tmp/ww/c4/x.sqlite")).unwrap();
    let t = Instant::now();
    let s = dst.write(|w| w.upsert_rows(&rows)).unwrap();
    println!("upsert {:?} in {:?}", s, t.elapsed());
    let t = Instant::now();
    let s = dst.write(|w| w.upsert_rows(&rows)).unwrap();
    println!("re-upsert {:?} in {:?}", s, t.elapsed());
}
