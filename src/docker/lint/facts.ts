/**
 * Facts about a parsed Dockerfile that several rules need: the cargo invocations of each RUN,
 * stage ancestry and base images, which directories cargo uses at a given instruction (cargo home,
 * target directory, the compiler cache's directory) and what each cache mount holds.
 */
import {
  type CopyInst,
  declarations,
  findStage,
  type Inst,
  isWithin,
  type MountSpec,
  type ParsedDockerfile,
  type RunInst,
  resolvePath,
  rootBase,
  type StageInfo,
  stageChain,
} from "../parse.ts";
import { type CargoCall, cargoCall, flagValues } from "./cargo.ts";
import { type ImageRef, parseImageRef } from "./images.ts";
import { runCommands, type ShellCommand } from "./shell.ts";

export type MountRole = "cargo-home" | "registry" | "git" | "target" | "compiler-cache" | "other";

export interface Wrapper {
  /** RUSTC_WRAPPER as set. */
  value: string;
  kind: "sccache" | "galley" | "other";
  /** Where it keeps its local cache. */
  dirs: string[];
  /** A remote store is configured (S3, Redis, GHA, ...), so no local directory needs to survive. */
  remote: boolean;
}

const SCCACHE_REMOTE = [
  "SCCACHE_BUCKET",
  "SCCACHE_ENDPOINT",
  "SCCACHE_REDIS",
  "SCCACHE_REDIS_ENDPOINT",
  "SCCACHE_REDIS_CLUSTER_ENDPOINTS",
  "SCCACHE_MEMCACHED",
  "SCCACHE_MEMCACHED_ENDPOINT",
  "SCCACHE_GCS_BUCKET",
  "SCCACHE_GHA_ENABLED",
  "SCCACHE_AZURE_CONNECTION_STRING",
  "SCCACHE_WEBDAV_ENDPOINT",
  "SCCACHE_OSS_BUCKET",
];

export class Facts {
  private readonly callCache = new Map<RunInst, CargoCall[]>();
  private readonly commandCache = new Map<RunInst, ShellCommand[]>();

  constructor(readonly file: ParsedDockerfile) {}

  /** Every RUN of the file, in order. */
  runs(): RunInst[] {
    return this.file.instructions.filter((i): i is RunInst => i.keyword === "RUN" && "mounts" in i);
  }

  commands(run: RunInst): ShellCommand[] {
    let c = this.commandCache.get(run);
    if (!c) {
      c = runCommands(run);
      this.commandCache.set(run, c);
    }
    return c;
  }

  /** The cargo / cargo-chef / galley invocations of a RUN, in order. */
  calls(run: RunInst): CargoCall[] {
    let c = this.callCache.get(run);
    if (!c) {
      c = this.commands(run).flatMap((cmd) => {
        const call = cargoCall(cmd);
        return call ? [call] : [];
      });
      this.callCache.set(run, c);
    }
    return c;
  }

  copies(): CopyInst[] {
    return this.file.instructions.filter(
      (i): i is CopyInst => (i.keyword === "COPY" || i.keyword === "ADD") && "sources" in i,
    );
  }

  /** The stage a `COPY --from` copies out of, when it is a stage of this file. */
  copySource(copy: CopyInst): StageInfo | undefined {
    if (copy.from === undefined || !copy.stage) return undefined;
    return findStage(this.file, copy.from, copy.stage);
  }

  /** The instructions a stage is made of, its parents' first. */
  chainInstructions(stage: StageInfo): Inst[] {
    return stageChain(stage).flatMap((s) => s.instructions);
  }

  /** The base image a stage stands on, parsed. */
  baseImage(stage: StageInfo): ImageRef {
    return parseImageRef(rootBase(stage).base);
  }

  finalStage(): StageInfo {
    return this.file.stages[this.file.stages.length - 1]!;
  }

  /** Whether the file builds for several platforms: platform ARGs or `FROM --platform`. */
  multiPlatform(): boolean {
    const platformArg = /^(TARGET|BUILD)(PLATFORM|OS|ARCH|VARIANT)$/;
    return (
      this.file.stages.some((s) => s.platform !== undefined) ||
      this.file.instructions.some(
        (i) => i.keyword === "ARG" && [...argNames(i)].some((n) => platformArg.test(n)),
      )
    );
  }

  /** Where cargo's home may be at an instruction ($CARGO_HOME, else ~/.cargo). */
  cargoHomes(inst: Inst, extra?: ReadonlyMap<string, string>): string[] {
    const set = extra?.get("CARGO_HOME") ?? inst.env.get("CARGO_HOME");
    if (set?.startsWith("/")) return [resolvePath("/", set)];
    return homes(inst).map((h) => `${h}/.cargo`);
  }

  /** Where cargo puts its outputs for a call (--target-dir, CARGO_TARGET_DIR, else ./target). */
  targetDirs(inst: Inst, call?: CargoCall): string[] {
    const env = (n: string) =>
      call?.command.assignments.find((a) => a.name === n)?.value ?? inst.env.get(n) ?? undefined;
    const explicit = call ? flagValues(call, "--target-dir") : [];
    const dir = explicit[0] ?? env("CARGO_TARGET_DIR") ?? env("CARGO_BUILD_TARGET_DIR");
    const cwd = this.cwdOf(inst, call);
    return [resolvePath(cwd, dir ?? "target")];
  }

  /** The directory a call runs in: WORKDIR, or `cd dir &&` before it in the same RUN. */
  cwdOf(inst: Inst, call?: CargoCall): string {
    if (!call || inst.keyword !== "RUN") return inst.workdir;
    let cwd = inst.workdir;
    for (const cmd of this.commands(inst as RunInst)) {
      if (cmd === call.command) break;
      if (cmd.words[0]?.value === "cd" && cmd.words[1] && !cmd.words[1].value.includes("$"))
        cwd = resolvePath(cwd, cmd.words[1].value);
    }
    return cwd;
  }

  /** The RUSTC_WRAPPER in effect for a call, if any. */
  wrapper(inst: Inst, call?: CargoCall): Wrapper | undefined {
    const env = new Map(inst.env);
    for (const a of call?.command.assignments ?? []) env.set(a.name, a.value);
    const value = env.get("RUSTC_WRAPPER") || env.get("CARGO_BUILD_RUSTC_WRAPPER");
    if (!value) return undefined;
    const name = value.slice(value.lastIndexOf("/") + 1);
    const home = homes(inst)[0]!;
    if (name === "sccache" || name === "galley" || name === "cargo-galley") {
      // galley answers to the name sccache too, and reads GALLEY_DIR before SCCACHE_DIR; either
      // directory (or the default of the name it runs under) may hold the cache.
      const dirs = [env.get("GALLEY_DIR"), env.get("SCCACHE_DIR")]
        .filter((d): d is string => d !== undefined && d !== "")
        .map((d) => resolvePath(inst.workdir, d));
      if (dirs.length === 0) {
        const xdg = env.get("XDG_CACHE_HOME");
        const cache = xdg ? resolvePath(inst.workdir, xdg) : `${home}/.cache`;
        dirs.push(name === "sccache" ? `${cache}/sccache` : `${cache}/galley`);
      }
      return {
        value,
        kind: name === "sccache" ? "sccache" : "galley",
        dirs,
        remote: SCCACHE_REMOTE.some((k) => env.get(k)),
      };
    }
    return { value, kind: "other", dirs: [], remote: false };
  }

  /** The ENV or ARG instruction (of the instruction's stage chain) that last set a variable. */
  definition(inst: Inst, name: string): Inst | undefined {
    if (!inst.stage) return undefined;
    let found: Inst | undefined;
    for (const i of this.chainInstructions(inst.stage)) {
      if (i === inst) break;
      if ((i.keyword === "ENV" || i.keyword === "ARG") && argNames(i).has(name)) found = i;
    }
    return found;
  }

  /** What a cache mount holds for the cargo calls of its RUN. */
  mountRoles(mount: MountSpec, run: RunInst): Set<MountRole> {
    const roles = new Set<MountRole>();
    const t = mount.target;
    if (!t || mount.type !== "cache") return roles;
    const calls = this.calls(run);
    const homesHere = new Set(this.cargoHomes(run));
    for (const c of calls) for (const h of this.cargoHomes(run, assignmentMap(c))) homesHere.add(h);
    for (const h of homesHere) {
      if (isWithin(h, t)) roles.add("cargo-home");
      if (isWithin(t, `${h}/registry`) || isWithin(`${h}/registry`, t)) roles.add("registry");
      if (isWithin(t, `${h}/git`) || isWithin(`${h}/git`, t)) roles.add("git");
    }
    if (/\/\.?cargo\/registry(\/|$)/.test(t)) roles.add("registry");
    if (/\/\.?cargo\/git(\/|$)/.test(t)) roles.add("git");
    const targets = calls.length > 0 ? calls.flatMap((c) => this.targetDirs(run, c)) : this.targetDirs(run);
    if (targets.some((d) => isWithin(t, d)) || t.endsWith("/target")) roles.add("target");
    for (const c of calls.length > 0 ? calls : [undefined]) {
      const w = this.wrapper(run, c);
      if (w?.dirs.some((d) => isWithin(t, d) || isWithin(d, t))) roles.add("compiler-cache");
    }
    if (roles.size === 0) roles.add("other");
    return roles;
  }

  /** Cache mounts of a RUN that hold a given role. */
  mountsWith(run: RunInst, role: MountRole): MountSpec[] {
    return run.mounts.filter((m) => this.mountRoles(m, run).has(role));
  }
}

/** The names an ARG or ENV instruction sets. */
export function argNames(inst: Inst): Set<string> {
  return new Set(declarations(inst.node).map((d) => d.name));
}

function assignmentMap(call: CargoCall): Map<string, string> {
  return new Map(call.command.assignments.map((a) => [a.name, a.value]));
}

/** $HOME at an instruction: set, else /root for root, else /home/<user> (and /root, to be safe). */
function homes(inst: Inst): string[] {
  const set = inst.env.get("HOME");
  if (set?.startsWith("/")) return [set];
  const user = inst.user?.split(":")[0];
  if (!user || user === "root" || user === "0") return ["/root"];
  return [`/home/${user}`, "/root"];
}

const MANIFEST_NAMES = new Set([
  "Cargo.toml",
  "Cargo.lock",
  "rust-toolchain",
  "rust-toolchain.toml",
  "recipe.json",
]);

/** Where tools are installed: a COPY there brings a program, not the project's sources. */
const BIN_DIR = /^\/(usr\/(local\/)?)?s?bin(\/|$)/;

/** A COPY of a program: into a bin directory, or made executable (`--chmod=0755`). */
export function isToolCopy(copy: CopyInst): boolean {
  const dest = copy.dest?.value ?? "";
  const executable = /^0?[0-7]?[1357][0-7]{2}$|x/.test(
    copy.flags.find((f) => f.name === "chmod")?.value ?? "",
  );
  return executable || BIN_DIR.test(dest.startsWith("/") ? dest : resolvePath(copy.workdir, dest));
}

/** What a COPY/ADD brings from the build context: only manifests, sources, or nothing of the context. */
export function copyKind(copy: CopyInst): "manifests" | "sources" | "none" {
  if (copy.from !== undefined || copy.heredoc || copy.sources.length === 0) return "none";
  if (isToolCopy(copy)) return "none";
  let sources = false;
  let manifests = false;
  for (const s of copy.sources) {
    const v = s.value;
    if (/^(https?|git):\/\/|^git@/.test(v)) continue;
    const p = v.replace(/^\.\//, "").replace(/\/+$/, "");
    const name = p.slice(p.lastIndexOf("/") + 1);
    if (MANIFEST_NAMES.has(name) || /(^|\/)\.cargo(\/|$)/.test(p)) manifests = true;
    else sources = true;
  }
  return sources ? "sources" : manifests ? "manifests" : "none";
}

/** Whether a COPY/ADD copies the whole context (`COPY . .`). */
export function copiesWholeContext(copy: CopyInst): boolean {
  return copyKind(copy) !== "none" && copy.sources.some((s) => /^(\.|\.\/|\*|\/|\.\/\*)$/.test(s.value));
}
