fn main() {
    let mut buf = itoa::Buffer::new();
    println!("{} (request #{})", greeting::hello("galley"), buf.format(42));
}
