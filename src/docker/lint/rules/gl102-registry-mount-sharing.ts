import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL102",
  name: "registry-mount-sharing",
  severity: "warning",
  summary: "a cache mount of the cargo registry or git directory is shared between concurrent builds",
  why:
    "cargo serialises access to its registry with a lock file in `$CARGO_HOME` itself. A cache mount " +
    "of only `$CARGO_HOME/registry` or `$CARGO_HOME/git` leaves that lock file in each build's own " +
    "layer, so with `sharing=shared` (BuildKit's default when `sharing` is not given) two builds running " +
    "at once, such as the platforms of a multi-platform build, unpack into the same directory unlocked " +
    "and can leave half-extracted crates behind that fail later builds.",
  fix:
    "Add `sharing=locked` to the mount (BuildKit then lets one build use it at a time), or " +
    "`sharing=private` (each concurrent build gets its own copy).",
  example: {
    bad: "RUN --mount=type=cache,target=/usr/local/cargo/registry cargo build --release --locked",
    good: "RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked cargo build --release --locked",
  },
  check({ facts }) {
    const hits: RuleHit[] = [];
    for (const run of facts.runs()) {
      for (const m of run.mounts) {
        if (m.type !== "cache" || m.sharing === "locked" || m.sharing === "private") continue;
        const roles = facts.mountRoles(m, run);
        if (roles.has("cargo-home") || !(roles.has("registry") || roles.has("git"))) continue;
        const how = m.sharing ? "sharing=shared" : "no sharing= option, so BuildKit's default sharing=shared";
        hits.push({
          inst: run,
          span: m.span,
          message: `cache mount of ${m.target} has ${how}: concurrent builds can corrupt the cargo registry; use sharing=locked`,
        });
      }
    }
    return hits;
  },
};
