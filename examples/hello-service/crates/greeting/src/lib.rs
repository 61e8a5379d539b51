cfg_if::cfg_if! {
    if #[cfg(unix)] {
        const PLATFORM: &str = "unix";
    } else {
        const PLATFORM: &str = "other";
    }
}

pub fn hello(name: &str) -> String {
    format!("hello, {name}, from {PLATFORM}")
}
