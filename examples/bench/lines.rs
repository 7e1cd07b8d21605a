// Prints N lines through Rust's stdout (a LineWriter: one write per line, whatever stdout is).
fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_mul(31).wrapping_add(i);
        println!("line {i} {sum:016x}");
    }
    eprintln!("done {n}");
}
