/** galley stats / explain / cache, and the sccache name's maintenance flags. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GALLEY as GALLEY_BIN, galley, ok, removeDir, run, writeTree } from "../helpers.ts";
import { type CacheProject, cachedBuild, cacheProject, edit } from "./cache-harness.ts";

let p: CacheProject;
let env: Record<string, string>;
beforeAll(() => {
  p = cacheProject();
  env = { GALLEY_DIR: p.cacheDir };
  cachedBuild(p);
});
afterAll(() => {
  removeDir(join(p.dir, ".."));
  removeDir(join(p.cacheDir, ".."));
});

describe("galley stats", () => {
  test("--json has numeric hits and misses, and the rest of the counters", () => {
    cachedBuild(p);
    const s = JSON.parse(ok(galley(["stats", "--json"], { cwd: p.dir, env })).stdout);
    expect(s.hits).toBe(6);
    expect(s.misses).toBe(0);
    expect(typeof s.compileMsSaved).toBe("number");
    expect(s.storeBytes).toBeGreaterThan(0);
    // Each wrapper process records its own CPU, the compilers' left out.
    expect(s.wrapperProcesses).toBe(6);
    expect(s.wrapperCpuMs).toBeGreaterThan(0);
    const text = ok(galley(["stats"], { cwd: p.dir, env })).stdout;
    expect(text).toMatch(/Hits\s+6/);
    expect(text).toMatch(
      /galley's own CPU \(compilers excluded\)\s+[\d.]+ m?s in 6 processes \([\d.]+ ms each\)/,
    );
  });

  test("--zero resets the counters", () => {
    ok(galley(["stats", "--zero"], { cwd: p.dir, env }));
    const s = JSON.parse(ok(galley(["stats", "--json"], { cwd: p.dir, env })).stdout);
    expect([s.hits, s.misses]).toEqual([0, 0]);
  });

  test("passthroughs are counted with their reason", () => {
    const b = cachedBuild(p, { env: { CARGO_INCREMENTAL: "1" } });
    expect(b.passthroughs).toEqual(["app", "build_script_build", "corelib", "hello_derive"]);
    const s = JSON.parse(ok(galley(["stats", "--json"], { cwd: p.dir, env })).stdout);
    expect(s.passthroughReasons).toEqual({ incremental: 4 });
    expect(s.hits).toBe(2); // the registry crates still hit
  });
});

describe("failed compiles", () => {
  test("end with rustc's exit code and messages, are not stored, and are counted apart from misses", () => {
    const dir = join(p.cacheDir, "..", "broken");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "broken.rs"), 'fn main() { let x: u32 = "no"; }\n');
    ok(galley(["stats", "--zero"], { cwd: dir, env }));
    const rustc = ok(run(["rustup", "which", "rustc"], { cwd: dir })).stdout.trim();
    const args = [
      rustc,
      "--crate-name",
      "broken",
      "--edition=2021",
      "broken.rs",
      "--emit=dep-info,link",
      "--out-dir",
      dir,
    ];
    for (let i = 0; i < 2; i++) {
      const r = galley(args, { cwd: dir, env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("mismatched types");
    }
    const s = JSON.parse(ok(galley(["stats", "--json"], { cwd: dir, env })).stdout);
    expect([s.hits, s.misses, s.compileFailures]).toEqual([0, 0, 2]);
    expect([s.failedProbes, s.failedOther]).toEqual([{}, { broken: 2 }]);
    const text = ok(galley(["stats"], { cwd: dir, env })).stdout;
    expect(text).toMatch(/\n {2}others\s+broken ×2\n/);
    expect(text).not.toContain("expected");
  });

  test("a build script's feature probe that fails is named and labelled as expected", () => {
    // What anyhow, thiserror and proc-macro2 do: the build script compiles a probe through
    // RUSTC_WRAPPER, and a failure means "feature missing", not a broken build.
    const dir = writeTree(join(p.cacheDir, "..", "prober"), {
      "Cargo.toml": '[package]\nname = "prober"\nversion = "0.1.0"\nedition = "2021"\n\n[workspace]\n',
      "src/lib.rs": "#[cfg(has_probe_feature)]\npub const PROBED: bool = true;\n",
      "build.rs": `use std::{env, path::PathBuf, process::Command};
fn main() {
    println!("cargo:rustc-check-cfg=cfg(has_probe_feature)");
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let probe = out.join("probe.rs");
    std::fs::write(&probe, "#![feature(galley_no_such_feature)]\\n").unwrap();
    let rustc = env::var_os("RUSTC").unwrap();
    let mut cmd = match env::var_os("RUSTC_WRAPPER").filter(|w| !w.is_empty()) {
        Some(wrapper) => { let mut c = Command::new(wrapper); c.arg(rustc); c }
        None => Command::new(rustc),
    };
    cmd.args(["--crate-name=prober_probe", "--crate-type=lib", "--emit=dep-info,metadata", "--out-dir"]);
    cmd.arg(&out).arg(&probe);
    if cmd.status().map(|s| s.success()).unwrap_or(false) {
        println!("cargo:rustc-cfg=has_probe_feature");
    }
}
`,
    });
    ok(galley(["stats", "--zero"], { cwd: dir, env }));
    ok(
      run(["cargo", "build", "--offline"], {
        cwd: dir,
        env: { ...env, RUSTC_WRAPPER: GALLEY_BIN, CARGO_TARGET_DIR: join(dir, "target") },
      }),
      "cargo build with a probing build script",
    );
    const s = JSON.parse(ok(galley(["stats", "--json"], { cwd: dir, env })).stdout);
    expect([s.compileFailures, s.failedProbes, s.failedOther]).toEqual([1, { prober_probe: 1 }, {}]);
    const text = ok(galley(["stats"], { cwd: dir, env })).stdout;
    expect(text).toMatch(
      /Failed compiles \(not stored\)\s+1\n {2}build-script probes \(expected\)\s+prober_probe\n/,
    );
  });
});

describe("galley explain", () => {
  test("names the source file that changed", () => {
    const undo = edit(join(p.dir, "corelib/src/lib.rs"), '"hello from corelib"', '"hello again"');
    try {
      cachedBuild(p);
      const out = ok(galley(["explain", "corelib"], { cwd: p.dir, env })).stdout;
      expect(out).toContain("a source file or env var changed");
      expect(out).toContain("~ file:corelib/src/lib.rs");
      const app = ok(galley(["explain", "app"], { cwd: p.dir, env })).stdout;
      expect(app).toMatch(/~ extern:corelib/);
    } finally {
      undo();
    }
  });

  test("names the env var that changed", () => {
    cachedBuild(p, { env: { APP_TAG: "explain-me" } });
    const out = ok(galley(["explain", "app"], { cwd: p.dir, env })).stdout;
    expect(out).toContain("~ env-dep:APP_TAG: unset -> =explain-me");
  });

  test("a miss whose compile fails is explained too (nothing is stored)", () => {
    const undo = edit(join(p.dir, "app/src/main.rs"), "fn main() {", "fn main() { not_a_value;");
    try {
      const r = run(["cargo", "build"], {
        cwd: p.dir,
        env: { RUSTC_WRAPPER: GALLEY_BIN, GALLEY_DIR: p.cacheDir, CARGO_INCREMENTAL: "0" },
      });
      expect(r.code).not.toBe(0);
      // The record of app's last miss before this one named APP_TAG, not this file.
      const out = ok(galley(["explain", "app"], { cwd: p.dir, env })).stdout;
      expect(out).toContain("a source file or env var changed");
      expect(out).toContain("~ file:app/src/main.rs");
    } finally {
      undo();
    }
  });

  test("a crate never looked up is a clear error", () => {
    const r = galley(["explain", "no-such-crate"], { cwd: p.dir, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('no cache lookup of crate "no_such_crate"');
  });
});

describe("galley cache", () => {
  test("verify checks every entry; clear empties the store", () => {
    const v = ok(galley(["cache", "verify"], { cwd: p.dir, env }));
    expect(v.stderr).toMatch(/checked \d+ entries; removed 0 damaged/);
    ok(galley(["cache", "clear"], { cwd: p.dir, env }));
    const s = JSON.parse(ok(galley(["stats", "--json"], { cwd: p.dir, env })).stdout);
    expect(s.storeBytes).toBe(0);
    expect(galley(["cache", "bogus"], { cwd: p.dir, env }).code).toBe(2);
  });
});

describe("the sccache name", () => {
  test("accepts --show-stats, --zero-stats, --start-server and --stop-server", () => {
    const shims = join(p.cacheDir, "..", "shims");
    ok(galley(["shims", "install", shims], { cwd: p.dir }));
    const sccache = join(shims, "sccache");
    for (const flag of ["--start-server", "--stop-server", "--zero-stats"]) {
      expect(run([sccache, flag], { cwd: p.dir, env }).code).toBe(0);
    }
    const stats = ok(run([sccache, "--show-stats"], { cwd: p.dir, env }));
    expect(stats.stdout).toMatch(/Hits\s+0/);
    expect(run([sccache, "--bogus"], { cwd: p.dir, env }).code).toBe(2);
  });
});
