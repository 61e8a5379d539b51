/** Every lint rule, in id order: the one list the linter, `--explain`, and docs/lint.md read. */
import { rule as gl101 } from "./rules/gl101-cargo-cache-mounts.ts";
import { rule as gl102 } from "./rules/gl102-registry-mount-sharing.ts";
import { rule as gl103 } from "./rules/gl103-copy-from-cache-mount.ts";
import { rule as gl104 } from "./rules/gl104-target-mount-per-platform.ts";
import { rule as gl105 } from "./rules/gl105-cargo-locked.ts";
import { rule as gl106 } from "./rules/gl106-no-dependency-layer.ts";
import { rule as gl107 } from "./rules/gl107-planner-sees-manifests-only.ts";
import { rule as gl108 } from "./rules/gl108-chef-stages-differ.ts";
import { rule as gl109 } from "./rules/gl109-rustc-wrapper-cache.ts";
import { rule as gl110 } from "./rules/gl110-rust-image-runtime.ts";
import { rule as gl111 } from "./rules/gl111-runtime-lacks-glibc.ts";
import { rule as gl112 } from "./rules/gl112-builder-glibc-newer.ts";
import { rule as gl113 } from "./rules/gl113-debug-build-shipped.ts";
import { rule as gl114 } from "./rules/gl114-dockerignore-target.ts";
import { rule as gl115 } from "./rules/gl115-cargo-install-unpinned.ts";
import { rule as gl116 } from "./rules/gl116-cook-build-mismatch.ts";
import { rule as gl117 } from "./rules/gl117-path-dependency-outside-context.ts";
import { rule as gl118 } from "./rules/gl118-store-credentials-in-image.ts";
import { rule as gl201 } from "./rules/gl201-root-user.ts";
import { rule as gl202 } from "./rules/gl202-unpinned-base-image.ts";
import { rule as gl203 } from "./rules/gl203-shell-form-entrypoint.ts";
import { rule as gl204 } from "./rules/gl204-secret-in-arg-env.ts";
import { rule as gl205 } from "./rules/gl205-scratch-named-user.ts";
import type { Rule } from "./types.ts";

export const RULES: readonly Rule[] = [
  gl101,
  gl102,
  gl103,
  gl104,
  gl105,
  gl106,
  gl107,
  gl108,
  gl109,
  gl110,
  gl111,
  gl112,
  gl113,
  gl114,
  gl115,
  gl116,
  gl117,
  gl118,
  gl201,
  gl202,
  gl203,
  gl204,
  gl205,
];

/** A rule by id (GL105) or name (cargo-locked), case-insensitively. */
export function findRule(idOrName: string): Rule | undefined {
  const key = idOrName.trim().toLowerCase();
  return RULES.find((r) => r.id.toLowerCase() === key || r.name === key);
}
