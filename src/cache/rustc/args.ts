/**
 * The rustc command line as the cache sees it: what it compiles, where it writes, what it links
 * against, and which arguments cannot change the output. Anything galley cannot model for sure
 * makes the invocation uncacheable, with a reason.
 */

export type EmitKind = "link" | "metadata" | "dep-info" | "obj" | "asm" | "llvm-ir" | "llvm-bc" | "mir";

export interface RustcInvocation {
  /** The arguments as given. */
  args: string[];
  crateName?: string;
  crateTypes: string[];
  input?: string;
  outDir?: string;
  emit: EmitKind[];
  extraFilename: string;
  externs: { name: string; path?: string }[];
  /** `-L [kind=]path` entries other than `dependency=` (those only hold --extern files). */
  searchPaths: { kind: string; path: string }[];
  /** `-l [kind[:mods]=]name[:rename]` native libraries. */
  libs: { kind: string; name: string }[];
  target?: string;
  codegen: Map<string, string>;
  /** Arguments that determine the output, normalised (paths of the output dir and deps dir left out). */
  keyArgs: string[];
  /** Why this invocation is passed straight to rustc, if it is. */
  uncacheable?: string;
}

/** Arguments that take a value as the next argument (or `=value`). */
const WITH_VALUE = new Set([
  "--crate-name",
  "--crate-type",
  "--edition",
  "--emit",
  "--out-dir",
  "-o",
  "--extern",
  "-L",
  "-l",
  "--cfg",
  "--check-cfg",
  "--target",
  "--cap-lints",
  "--error-format",
  "--json",
  "--color",
  "--diagnostic-width",
  "-C",
  "--codegen",
  "-Z",
  "--print",
  "--sysroot",
  "--remap-path-prefix",
  "--explain",
  "-W",
  "-A",
  "-D",
  "-F",
  "--warn",
  "--allow",
  "--deny",
  "--forbid",
  "--force-warn",
  "--crate-attr",
  "--env-set",
]);

/** Arguments that cannot change what rustc writes. */
const NOT_IN_KEY = new Set(["--color", "--diagnostic-width"]);

export function parseRustcArgs(args: string[]): RustcInvocation {
  const inv: RustcInvocation = {
    args,
    crateTypes: [],
    emit: [],
    extraFilename: "",
    externs: [],
    searchPaths: [],
    libs: [],
    codegen: new Map(),
    keyArgs: [],
  };
  const cfgs: string[] = [];
  const checkCfgs: string[] = [];
  const key: string[] = [];
  const inputs: string[] = [];
  let emitGiven = false;
  const refuse = (why: string) => {
    inv.uncacheable ??= why;
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    let flag = arg;
    let value: string | undefined;
    if (arg.startsWith("--") && arg.includes("=")) {
      flag = arg.slice(0, arg.indexOf("="));
      value = arg.slice(arg.indexOf("=") + 1);
    } else if (/^-[CLlZWADF]./.test(arg)) {
      flag = arg.slice(0, 2);
      value = arg.slice(2);
    }
    if (!flag.startsWith("-") || flag === "-") {
      inputs.push(arg);
      continue;
    }
    if (WITH_VALUE.has(flag)) {
      if (value === undefined) {
        value = args[++i];
        if (value === undefined) {
          refuse(`${flag} without a value`);
          break;
        }
      }
    } else {
      // Flags without a value.
      if (flag === "-V" || flag === "--version" || flag === "-vV") refuse("version probe");
      else if (flag === "-g" || flag === "-O" || flag === "--test" || flag === "-v" || flag === "--verbose")
        key.push(flag);
      else refuse(`unknown rustc argument ${arg}`);
      continue;
    }

    switch (flag) {
      case "--crate-name":
        inv.crateName = value;
        key.push(flag, value);
        break;
      case "--crate-type":
        inv.crateTypes.push(...value.split(","));
        key.push(flag, value);
        break;
      case "--emit":
        emitGiven = true;
        for (const part of value.split(",")) {
          if (part.includes("=")) refuse("--emit with an explicit path");
          inv.emit.push(part as EmitKind);
        }
        key.push(flag, value);
        break;
      case "--out-dir":
        inv.outDir = value;
        break;
      case "-o":
        refuse("-o (an explicit output file)");
        break;
      case "--extern": {
        const eq = value.indexOf("=");
        const name = eq === -1 ? value : value.slice(0, eq);
        inv.externs.push(eq === -1 ? { name } : { name, path: value.slice(eq + 1) });
        // The path is keyed by the file's content, not its place.
        key.push(flag, name);
        break;
      }
      case "-L": {
        const eq = value.indexOf("=");
        const kind = eq === -1 ? "all" : value.slice(0, eq);
        const path = eq === -1 ? value : value.slice(eq + 1);
        if (kind !== "dependency") {
          inv.searchPaths.push({ kind, path });
          key.push(flag, value);
        }
        break;
      }
      case "-l": {
        const eq = value.indexOf("=");
        inv.libs.push({
          kind: eq === -1 ? "dylib" : value.slice(0, eq),
          name: eq === -1 ? value : value.slice(eq + 1),
        });
        key.push(flag, value);
        break;
      }
      case "--cfg":
        cfgs.push(value);
        break;
      case "--check-cfg":
        checkCfgs.push(value);
        break;
      case "--target":
        inv.target = value;
        key.push(flag, value);
        break;
      case "-C":
      case "--codegen": {
        const eq = value.indexOf("=");
        const name = eq === -1 ? value : value.slice(0, eq);
        inv.codegen.set(name, eq === -1 ? "" : value.slice(eq + 1));
        if (name === "incremental") refuse("incremental");
        else if (name === "extra-filename") {
          inv.extraFilename = value.slice(eq + 1);
          key.push("-C", value);
        } else key.push("-C", value);
        break;
      }
      case "--print":
        refuse("--print probe");
        break;
      case "--explain":
        refuse("--explain");
        break;
      default:
        if (!NOT_IN_KEY.has(flag)) key.push(flag, value);
    }
  }

  if (inputs.length === 0) refuse("no input file");
  else if (inputs.length > 1) refuse("several input files");
  else if (inputs[0] === "-") refuse("input from stdin");
  else inv.input = inputs[0];
  if (!inv.crateName && !inv.uncacheable) refuse("no --crate-name");
  if (!inv.outDir && !inv.uncacheable) refuse("no --out-dir");
  if (!emitGiven) inv.emit.push("link");
  if (inv.crateTypes.length === 0) inv.crateTypes.push("bin");
  for (const kind of inv.emit) {
    if (!["link", "metadata", "dep-info"].includes(kind)) refuse(`--emit=${kind}`);
  }
  if (
    inv.crateTypes.some(
      (t) => !["bin", "lib", "rlib", "dylib", "cdylib", "staticlib", "proc-macro"].includes(t),
    )
  ) {
    refuse(`crate type ${inv.crateTypes.join(",")}`);
  }
  const split = inv.codegen.get("split-debuginfo");
  if (split !== undefined && split !== "off") refuse(`-C split-debuginfo=${split}`);
  // --cfg and --check-cfg sets: order cannot change the output.
  for (const c of [...cfgs].sort()) key.push("--cfg", c);
  for (const c of [...checkCfgs].sort()) key.push("--check-cfg", c);
  if (inv.input !== undefined) key.push("input", inv.input);
  inv.keyArgs = key;
  return inv;
}

/** Crate types whose output is linked by the system linker (the key then holds the linker too). */
export function isLinked(inv: RustcInvocation): boolean {
  return (
    inv.emit.includes("link") &&
    inv.crateTypes.some((t) => ["bin", "dylib", "cdylib", "proc-macro"].includes(t))
  );
}

/** The files rustc writes into --out-dir for this invocation (Linux naming). */
export function expectedOutputs(inv: RustcInvocation): string[] {
  const crate = inv.crateName!;
  const extra = inv.extraFilename;
  const out = new Set<string>();
  for (const kind of inv.emit) {
    if (kind === "dep-info") out.add(`${crate}${extra}.d`);
    else if (kind === "metadata") {
      // A lone `--emit=metadata` of an rlib (cargo check) or pipelined metadata.
      out.add(`lib${crate}${extra}.rmeta`);
    } else if (kind === "link") {
      for (const type of inv.crateTypes) {
        if (type === "lib" || type === "rlib") out.add(`lib${crate}${extra}.rlib`);
        else if (type === "bin") out.add(`${crate}${extra}`);
        else if (type === "dylib" || type === "cdylib" || type === "proc-macro")
          out.add(`lib${crate}${extra}.so`);
        else if (type === "staticlib") out.add(`lib${crate}${extra}.a`);
      }
    }
  }
  return [...out].sort();
}
