/** Dummy sources for the skeleton: the smallest lint-clean file of each kind. */
import type { DummyKind } from "./recipe.ts";

const NO_STD_MAIN = `#![no_std]
#![no_main]

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}
`;

export function dummySource(kind: DummyKind, noStd: boolean): string {
  switch (kind) {
    case "lib":
      return noStd ? "#![no_std]\n" : "";
    case "main":
      return noStd ? NO_STD_MAIN : "fn main() {}\n";
    case "harness":
      return "";
    case "build":
      // Build scripts always run on the host, with std.
      return "fn main() {}\n";
  }
}
