//! Write starting inputs for the fuzz targets: what tracectl itself sends, in each encoding.

fn main() {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: tracectl-fuzz-seeds DIR"),
    );
    for (target, name, bytes) in tracectl::fuzzing::seeds() {
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder).expect("create the seed folder");
        std::fs::write(folder.join(name), bytes).expect("write a seed");
    }
}
