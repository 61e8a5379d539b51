/**
 * Which binaries cross from a builder stage into a runtime stage, and the C libraries on each side:
 * the facts behind GL111 (the runtime cannot run the binary) and GL112 (it may not).
 */
import { type CopyInst, expand, type RunInst, type StageInfo, type Word } from "../parse.ts";
import { compiles, flagValues } from "./cargo.ts";
import type { Facts } from "./facts.ts";
import { type ImageRef, imageLibc, type Libc } from "./images.ts";
import type { BuildContext } from "./types.ts";

export interface BinaryCopy {
  copy: CopyInst;
  word: Word;
  path: string;
  builder: StageInfo;
  runtime: StageInfo;
  builderImage: ImageRef;
  runtimeImage: ImageRef;
  /** The glibc the binary was linked against. */
  builderGlibc: { version: string; distro: string };
  runtimeLibc: Libc;
  /** The runtime installs a glibc compatibility layer (gcompat, libc6-compat). */
  compat: boolean;
}

/** A path that looks like a program (not certificates, config or data). */
function looksLikeBinary(path: string): boolean {
  if (/^\/(etc|usr\/share|var|tmp|usr\/lib)\//.test(path)) return false;
  if (/(^|\/)target\//.test(path) || /\/s?bin\//.test(path)) return true;
  const name = path.slice(path.lastIndexOf("/") + 1);
  return name !== "" && !name.includes(".");
}

/** Every copy of a dynamically linked glibc program from a stage that compiled it into another. */
export function binaryCopies(facts: Facts, context: BuildContext | undefined): BinaryCopy[] {
  const out: BinaryCopy[] = [];
  const seen = new Set<string>();
  const crtStatic =
    /crt-static/.test(facts.file.text) ||
    /crt-static/.test(context?.read(".cargo/config.toml") ?? "") ||
    /crt-static/.test(context?.read(".cargo/config") ?? "");
  if (crtStatic) return out;
  for (const copy of facts.copies()) {
    const builder = facts.copySource(copy);
    const runtime = copy.stage;
    if (!builder || !runtime) continue;
    const runs = (s: StageInfo) =>
      facts.chainInstructions(s).filter((i): i is RunInst => i.keyword === "RUN" && "mounts" in i);
    const builderCalls = runs(builder).flatMap((r) => facts.calls(r).map((c) => ({ run: r, call: c })));
    if (!builderCalls.some((c) => compiles(c.call))) continue;
    if (runs(runtime).some((r) => facts.calls(r).some(compiles))) continue;
    const key = `${builder.index}>${runtime.index}`;
    if (seen.has(key)) continue;
    const word = copy.sources.find((w) => looksLikeBinary(expand(w.value, copy.env).value));
    if (!word) continue;
    const path = expand(word.value, copy.env).value;
    // musl targets link statically; a zigbuild target can name the glibc it links against.
    const targets = builderCalls.flatMap(({ run, call }) => [
      ...flagValues(call, "--target"),
      call.command.assignments.find((a) => a.name === "CARGO_BUILD_TARGET")?.value ??
        run.env.get("CARGO_BUILD_TARGET") ??
        "",
    ]);
    if (targets.some((t) => t.includes("musl")) || path.includes("musl")) continue;
    const builderImage = facts.baseImage(builder);
    const runtimeImage = facts.baseImage(runtime);
    const builderLibc = imageLibc(builderImage);
    const runtimeLibc = imageLibc(runtimeImage);
    const zig = targets.map((t) => /\.(2\.\d+)$/.exec(t)?.[1]).find((v) => v !== undefined);
    const builderGlibc =
      zig !== undefined
        ? { version: zig, distro: "zigbuild target" }
        : builderLibc?.kind === "glibc"
          ? { version: builderLibc.version, distro: builderLibc.distro }
          : undefined;
    if (!builderGlibc || !runtimeLibc) continue;
    seen.add(key);
    const compat = runs(runtime).some((r) => /\b(gcompat|libc6-compat)\b/.test(r.script?.text ?? ""));
    out.push({
      copy,
      word,
      path,
      builder,
      runtime,
      builderImage,
      runtimeImage,
      builderGlibc,
      runtimeLibc,
      compat,
    });
  }
  return out;
}
